output "namespace_id" {
  description = "TEMPORAL_NAMESPACE: <name>.<account id>."
  value       = temporalcloud_namespace.this.id
}

output "address" {
  description = "TEMPORAL_ADDRESS: the namespace endpoint for mTLS, the regional endpoint for API keys."
  value       = var.auth == "mtls" ? temporalcloud_namespace.this.endpoints.mtls_grpc_address : temporalcloud_namespace.this.endpoints.grpc_address
}
