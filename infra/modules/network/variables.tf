variable "name" {
  description = "Base name of the network resources."
  type        = string
}

variable "location" {
  type = string
}

variable "resource_group_name" {
  type = string
}

variable "address_space" {
  description = "VNet CIDR, /22 or larger."
  type        = string
  validation {
    condition     = can(cidrnetmask(var.address_space)) && tonumber(split("/", var.address_space)[1]) <= 22
    error_message = "address_space must be a CIDR block of /22 or larger."
  }
}

variable "private_dns_zones" {
  description = "privatelink zones to create and link (one per service with a private endpoint)."
  type        = list(string)
}

variable "tags" {
  type    = map(string)
  default = {}
}
