variable "name" {
  description = "Base name (prefix-environment)."
  type        = string
}

variable "location" {
  type = string
}

variable "resource_group_name" {
  type = string
}

variable "roles" {
  description = "One user-assigned identity per role."
  type        = list(string)
  validation {
    condition     = alltrue([for r in var.roles : can(regex("^[a-z][a-z0-9-]{1,20}$", r))])
    error_message = "roles must be short lower-case names."
  }
}

variable "private_endpoints_subnet_id" {
  type = string
}

variable "key_vault_private_dns_zone_id" {
  type = string
}

variable "key_vault_allowed_ip_ranges" {
  description = "Public addresses (CIDR) allowed through the vault's firewall: where Terraform and operators write secrets from."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for ip in var.key_vault_allowed_ip_ranges : can(cidrnetmask(ip)) || can(regex("^[0-9.]+$", ip))])
    error_message = "key_vault_allowed_ip_ranges must be IPv4 addresses or CIDR ranges."
  }
}

variable "external_secret_names" {
  description = "Secrets issued outside Azure, created as placeholders for the operators to set."
  type        = list(string)
  validation {
    condition     = alltrue([for n in var.external_secret_names : can(regex("^[a-z0-9-]{1,127}$", n))])
    error_message = "Secret names are lower-case letters, digits and hyphens."
  }
}

variable "derived_secrets" {
  description = "Secrets whose value another resource produces (name => value)."
  type        = map(string)
  sensitive   = true
  default     = {}
}

variable "secret_expiration_date" {
  description = "Expiry stamped on every secret (RFC 3339): a reminder to rotate, enforced by the alert on near-expiry secrets."
  type        = string
  validation {
    condition     = can(formatdate("YYYY", var.secret_expiration_date))
    error_message = "secret_expiration_date must be an RFC 3339 timestamp such as 2027-06-30T00:00:00Z."
  }
}

variable "tags" {
  type    = map(string)
  default = {}
}
