# terraform plan -var-file=environments/prod.tfvars -var image_tag=<git sha>
environment             = "prod"
location                = "westeurope"
subscription_id         = "00000000-0000-0000-0000-000000000000"
vnet_address_space      = "10.41.0.0/16"
sql_sku                 = "S2"
servicebus_sku          = "Premium"
temporal_namespace_name = "sms-order-confirmation"
temporal_region         = "azure-westeurope"
temporal_retention_days = 30
temporal_auth           = "mtls"
sms_provider            = "twilio"
sms_failover_provider   = "plivo"
public_base_url         = "https://sms.example.com"
secret_expiration_date  = "2027-06-30T00:00:00Z"
alert_email_receivers   = ["oncall@example.com"]
sql_admin_group = {
  display_name = "sms-sql-admins"
  object_id    = "00000000-0000-0000-0000-000000000000"
}
