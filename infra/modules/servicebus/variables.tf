variable "name" {
  type = string
}

variable "location" {
  type = string
}

variable "resource_group_name" {
  type = string
}

variable "sku" {
  type = string
  validation {
    condition     = contains(["Standard", "Premium"], var.sku)
    error_message = "sku must be Standard or Premium (Basic has no topics)."
  }
}

variable "topic_name" {
  description = "SERVICEBUS_TOPIC."
  type        = string
  default     = "send-order-confirmation-sms"
}

variable "subscription_name" {
  description = "SERVICEBUS_SUBSCRIPTION."
  type        = string
  default     = "sms-service"
}

variable "duplicate_detection_window" {
  description = "Duplicate detection history window (ISO-8601). The bridge expects 10 minutes (docs/servicebus/README.md)."
  type        = string
  default     = "PT10M"
  validation {
    condition     = can(regex("^PT([0-9]+M|[0-9]+S|[0-9]+H)$", var.duplicate_detection_window))
    error_message = "duplicate_detection_window must be an ISO-8601 duration such as PT10M."
  }
}

variable "lock_duration" {
  description = "Subscription lock duration (ISO-8601, at most PT5M)."
  type        = string
  default     = "PT1M"
  validation {
    condition     = can(regex("^PT([1-5]M|[0-9]{1,3}S)$", var.lock_duration))
    error_message = "lock_duration must be an ISO-8601 duration up to PT5M, e.g. PT1M."
  }
}

variable "max_delivery_count" {
  description = "Deliveries before Service Bus dead-letters a message. Only bridge crashes and lost locks spend them."
  type        = number
  default     = 10
  validation {
    condition     = var.max_delivery_count >= 1 && var.max_delivery_count <= 2000
    error_message = "max_delivery_count must be from 1 to 2000."
  }
}

variable "message_ttl" {
  description = "Message time to live (ISO-8601); expired messages are dead-lettered."
  type        = string
  default     = "P14D"
  validation {
    condition     = can(regex("^P([0-9]+D|T[0-9]+H)$", var.message_ttl))
    error_message = "message_ttl must be an ISO-8601 duration such as P14D."
  }
}

variable "receiver_principal_id" {
  description = "The bridge identity's principal id (Azure Service Bus Data Receiver on the subscription)."
  type        = string
}

variable "publisher_principal_ids" {
  description = "Identities that publish the event (Azure Service Bus Data Sender on the topic)."
  type        = list(string)
  default     = []
}

variable "private_endpoints_subnet_id" {
  type = string
}

variable "private_dns_zone_id" {
  description = "privatelink.servicebus.windows.net (used with Premium)."
  type        = string
}

variable "tags" {
  type    = map(string)
  default = {}
}
