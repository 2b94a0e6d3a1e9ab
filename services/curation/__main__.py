from services.curation.app import service

service.main()
