variable "name" {
  type = string
}

variable "location" {
  type = string
}

variable "resource_group_name" {
  type = string
}

variable "database_name" {
  description = "The database DATABASE_URL names."
  type        = string
  default     = "sms"
  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_]{0,127}$", var.database_name))
    error_message = "database_name must be a plain SQL identifier (it goes into DATABASE_URL and the README's T-SQL)."
  }
}

variable "sku" {
  type = string
}

variable "admin_group" {
  type = object({
    display_name = string
    object_id    = string
  })
}

variable "public_network_access" {
  type = bool
}

variable "private_endpoints_subnet_id" {
  type = string
}

variable "private_dns_zone_id" {
  description = "privatelink.database.windows.net."
  type        = string
}

variable "log_analytics_workspace_id" {
  type = string
}

variable "alert_emails" {
  type    = list(string)
  default = []
}

variable "tags" {
  type    = map(string)
  default = {}
}
