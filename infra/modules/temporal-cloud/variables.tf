variable "namespace_name" {
  type = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,37}[a-z0-9]$", var.namespace_name))
    error_message = "namespace_name must be 2-39 lower-case letters, digits and hyphens, starting with a letter."
  }
}

variable "region" {
  type = string
}

variable "retention_days" {
  type = number
  validation {
    condition     = var.retention_days >= 1 && var.retention_days <= 90
    error_message = "retention_days must be from 1 to 90."
  }
}

variable "auth" {
  type = string
  validation {
    condition     = contains(["mtls", "api-key"], var.auth)
    error_message = "auth must be mtls or api-key."
  }
}

variable "client_ca_pem" {
  type    = string
  default = ""
}
