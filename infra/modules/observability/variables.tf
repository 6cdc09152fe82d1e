variable "name" {
  type = string
}

variable "location" {
  type = string
}

variable "resource_group_name" {
  type = string
}

variable "log_retention_days" {
  type = number
}

variable "prometheus_rules_file" {
  description = "ops/prometheus/alerts.yml: the Prometheus rules, loaded as they are."
  type        = string
}

variable "metrics_publisher_principal_ids" {
  description = "Role => principal id of the identities whose sidecars remote-write metrics."
  type        = map(string)
}

variable "alert_email_receivers" {
  type    = list(string)
  default = []
}

variable "servicebus_namespace_id" {
  type = string
}

variable "servicebus_topic_name" {
  type = string
}

variable "container_app_ids" {
  description = "App name => id, for the replica and restart alerts."
  type        = map(string)
  default     = {}
}

variable "api_ready_url" {
  description = "https URL of the api's /health/ready for the availability test; empty for none."
  type        = string
  default     = ""
}

variable "tags" {
  type    = map(string)
  default = {}
}
