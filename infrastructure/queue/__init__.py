"""Job brokers for SAQ that the service can run on besides Redis."""
