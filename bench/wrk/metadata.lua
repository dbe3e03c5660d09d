-- wrk: the bare ceiling, GET /fhir/metadata (a cached CapabilityStatement, no store).
wrk.method = "GET"
wrk.path = "/fhir/metadata"
