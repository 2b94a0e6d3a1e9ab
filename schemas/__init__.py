"""The platform's contracts: the CloudEvents envelope and every command and event, as pydantic models.

`python -m services.export` (`make contracts`) writes them as JSON Schema files (schemas/json/) and each
service's AsyncAPI document (schemas/asyncapi/); a test fails when those files are stale.
"""

# The released version of the contracts; AsyncAPI documents carry it.
CONTRACTS_VERSION = "1.0.0"
