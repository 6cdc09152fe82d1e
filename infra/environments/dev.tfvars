# terraform plan -var-file=environments/dev.tfvars -var image_tag=<git sha>
environment             = "dev"
location                = "westeurope"
subscription_id         = "00000000-0000-0000-0000-000000000000"
vnet_address_space      = "10.40.0.0/16"
sql_sku                 = "S0"
servicebus_sku          = "Standard"
temporal_namespace_name = "sms-order-confirmation-dev"
temporal_region         = "azure-westeurope"
temporal_retention_days = 7
temporal_auth           = "mtls"
sms_provider            = "twilio"
secret_expiration_date  = "2027-12-31T00:00:00Z"
sql_admin_group = {
  display_name = "sms-sql-admins-dev"
  object_id    = "00000000-0000-0000-0000-000000000000"
}
scale = {
  api            = { min = 1, max = 2 }
  worker-orders  = { min = 1, max = 3 }
  worker-consent = { min = 1, max = 2 }
  worker-send    = { min = 1, max = 1 }
  bridge         = { min = 1, max = 2 }
}
