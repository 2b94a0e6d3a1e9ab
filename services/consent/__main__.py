from services.consent.app import service

service.main()
