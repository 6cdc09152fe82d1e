# Azure SQL with Entra ID only: no SQL logins, no password anywhere. The admin is an Entra group;
# the migrate identity (DDL) and the app identities (DML) become contained database users through
# the T-SQL in infra/README.md, run once by a member of that group.
resource "azurerm_mssql_server" "this" {
  name                          = "sql-${var.name}"
  location                      = var.location
  resource_group_name           = var.resource_group_name
  version                       = "12.0"
  minimum_tls_version           = "1.2"
  public_network_access_enabled = var.public_network_access
  tags                          = var.tags

  azuread_administrator {
    login_username              = var.admin_group.display_name
    object_id                   = var.admin_group.object_id
    azuread_authentication_only = true
  }

  identity {
    type = "SystemAssigned"
  }
}

resource "azurerm_mssql_database" "this" {
  #checkov:skip=CKV_AZURE_224: ledger tables are a compliance choice the schema does not need; auditing below records access.
  #checkov:skip=CKV_AZURE_229: zone redundancy is not available for every SKU (S1 default); set it with a GP/BC SKU.
  name                 = var.database_name
  server_id            = azurerm_mssql_server.this.id
  sku_name             = var.sku
  storage_account_type = "Geo"
  tags                 = var.tags

  short_term_retention_policy {
    retention_days = 14
  }

  lifecycle {
    prevent_destroy = true
  }
}

# Auditing to Log Analytics (the server's own audit trail); Defender's assessments likewise.
resource "azurerm_mssql_server_extended_auditing_policy" "this" {
  server_id              = azurerm_mssql_server.this.id
  log_monitoring_enabled = true
  retention_in_days      = 90
}

resource "azurerm_monitor_diagnostic_setting" "audit" {
  name                       = "audit-to-log-analytics"
  target_resource_id         = "${azurerm_mssql_server.this.id}/databases/master"
  log_analytics_workspace_id = var.log_analytics_workspace_id

  enabled_log {
    category = "SQLSecurityAuditEvents"
  }
}

resource "azurerm_mssql_server_security_alert_policy" "this" {
  resource_group_name  = var.resource_group_name
  server_name          = azurerm_mssql_server.this.name
  state                = "Enabled"
  email_account_admins = true
  email_addresses      = var.alert_emails
}

resource "azurerm_private_endpoint" "sql" {
  name                = "pe-${var.name}-sql"
  location            = var.location
  resource_group_name = var.resource_group_name
  subnet_id           = var.private_endpoints_subnet_id
  tags                = var.tags

  private_service_connection {
    name                           = "sql"
    private_connection_resource_id = azurerm_mssql_server.this.id
    subresource_names              = ["sqlServer"]
    is_manual_connection           = false
  }

  private_dns_zone_group {
    name                 = "sql"
    private_dns_zone_ids = [var.private_dns_zone_id]
  }
}
