variable "name" {
  description = "Base name (prefix-environment); apps are <name>-api, <name>-worker-orders, …"
  type        = string
}

variable "location" {
  type = string
}

variable "resource_group_name" {
  type = string
}

variable "apps_subnet_id" {
  type = string
}

variable "zone_redundant" {
  type    = bool
  default = true
}

variable "log_analytics_workspace_id" {
  type = string
}

variable "acr_login_server" {
  type = string
}

variable "image_tag" {
  type = string
  validation {
    condition     = can(regex("^[0-9a-f]{7,40}$", var.image_tag))
    error_message = "image_tag must be a git commit SHA."
  }
}

variable "identities" {
  description = "Kind (api, worker, bridge, migrate) => identity."
  type = map(object({
    id           = string
    client_id    = string
    principal_id = string
    name         = string
  }))
  validation {
    condition     = length(setsubtract(["api", "worker", "bridge", "migrate"], keys(var.identities))) == 0
    error_message = "identities needs api, worker, bridge and migrate."
  }
}

variable "key_vault_secret_ids" {
  description = "Key Vault secret name => versionless id."
  type        = map(string)
}

variable "log_level" {
  type    = string
  default = "info"
  validation {
    condition     = contains(["fatal", "error", "warn", "info", "debug", "trace"], var.log_level)
    error_message = "log_level must be one of fatal, error, warn, info, debug, trace."
  }
}

variable "sql_server_fqdn" {
  type = string
}

variable "sql_database_name" {
  type = string
}

variable "servicebus_namespace_name" {
  type = string
}

variable "servicebus_namespace_host" {
  type = string
}

variable "servicebus_topic_name" {
  type = string
}

variable "servicebus_subscription_name" {
  type = string
}

variable "temporal_address" {
  description = "host:port of the Temporal Cloud namespace endpoint."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9.-]+:[0-9]+$", var.temporal_address))
    error_message = "temporal_address must be host:port."
  }
}

variable "temporal_namespace" {
  description = "The namespace id (<name>.<account>)."
  type        = string
}

variable "temporal_task_queue" {
  type = string
}

variable "temporal_auth" {
  type = string
  validation {
    condition     = contains(["mtls", "api-key"], var.temporal_auth)
    error_message = "temporal_auth must be mtls or api-key."
  }
}

variable "sms_provider" {
  type = string
}

variable "sms_failover_provider" {
  type    = string
  default = ""
}

variable "public_base_url" {
  type    = string
  default = ""
}

variable "scale" {
  type = map(object({
    min = number
    max = number
  }))
}

variable "worker_scale_signal" {
  type = string
  validation {
    condition     = contains(["temporal", "cpu"], var.worker_scale_signal)
    error_message = "worker_scale_signal must be temporal or cpu."
  }
}

variable "prometheus_remote_write_url" {
  type = string
}

variable "prometheus_agent_image" {
  description = "Prometheus image for the agent sidecar (pinned)."
  type        = string
  default     = "quay.io/prometheus/prometheus:v3.5.0"
  validation {
    condition     = can(regex(":v[0-9]+\\.[0-9]+\\.[0-9]+(@sha256:[0-9a-f]{64})?$", var.prometheus_agent_image))
    error_message = "prometheus_agent_image must be pinned to a version tag (vX.Y.Z), optionally with a digest."
  }
}

variable "tags" {
  type    = map(string)
  default = {}
}
