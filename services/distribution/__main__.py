from services.distribution.app import service

service.main()
