from services.metrics.app import service

service.main()
