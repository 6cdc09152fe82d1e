terraform {
  required_providers {
    temporalcloud = {
      source = "temporalio/temporalcloud"
    }
  }
}

# The namespace the roles use, with the search attributes the workflows set
# (temporal/search-attributes.ts SEARCH_ATTRIBUTE_CLI_TYPES; the infra test compares them).
resource "temporalcloud_namespace" "this" {
  name           = var.namespace_name
  regions        = [var.region]
  retention_days = var.retention_days
  # mTLS: the CA whose client certificates the namespace accepts. API key: no CA.
  accepted_client_ca = var.auth == "mtls" ? base64encode(var.client_ca_pem) : null
  api_key_auth       = var.auth == "api-key"

  lifecycle {
    prevent_destroy = true
    precondition {
      condition     = var.auth != "mtls" || var.client_ca_pem != ""
      error_message = "temporal_auth = mtls needs temporal_client_ca_pem (the CA that signs the roles' client certificates)."
    }
  }
}

locals {
  # Temporal Cloud's names for the types.
  search_attributes = {
    OrderId      = "keyword"
    VenueId      = "int"
    SmsOutcome   = "keyword"
    SmsProvider  = "keyword"
    SmsErrorCode = "keyword"
  }
}

resource "temporalcloud_namespace_search_attribute" "this" {
  for_each     = local.search_attributes
  namespace_id = temporalcloud_namespace.this.id
  name         = each.key
  type         = each.value
}
