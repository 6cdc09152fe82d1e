# Every app setting and secret the roles get, in one place. test/unit/infra-config.test.ts reads
# this file: each name must be one config/index.ts (loadConfig) reads, and each role's settings must
# pass loadConfig's production rules. Keep the maps literal (no merge() inside them) so it can.
locals {
  # Plain settings, by group. No secret here: those are Key Vault references (below).
  settings = {
    common = {
      LOG_LEVEL           = var.log_level
      TEMPORAL_ADDRESS    = var.temporal_address
      TEMPORAL_NAMESPACE  = var.temporal_namespace
      TEMPORAL_TASK_QUEUE = var.temporal_task_queue
      TEMPORAL_TLS        = "true"
      SMS_PROVIDER        = var.sms_provider
      # Empty means unset to loadConfig (it drops empty values).
      SMS_FAILOVER_PROVIDER = var.sms_failover_provider
      # What providers call back and sign; loadConfig requires it in production with twilio/plivo,
      # in every role (the worker asks for delivery callbacks to it).
      PUBLIC_BASE_URL = local.public_base_url
    }
    # Entra ID to Azure SQL: no password, the role's managed identity (AZURE_CLIENT_ID below).
    database = {
      DATABASE_URL  = "mssql://${var.sql_server_fqdn}:1433/${var.sql_database_name}?encrypt=true"
      DATABASE_AUTH = "azure-managed-identity"
    }
    api = {
      PORT = "3000"
      # One proxy hop: Container Apps' ingress (Envoy) sets X-Forwarded-For.
      TRUST_PROXY = "1"
      # Temporal Cloud's Web UI calls /codec from the browser.
      CODEC_CORS_ORIGINS = "https://cloud.temporal.io"
    }
    worker = {
      METRICS_PORT          = "9464"
      TEMPORAL_METRICS_PORT = "9466"
      # Below the app's termination grace period (45 s): running activities finish first.
      WORKER_SHUTDOWN_GRACE_SECONDS = "30"
    }
    bridge = {
      SERVICEBUS_NAMESPACE    = var.servicebus_namespace_host
      SERVICEBUS_TOPIC        = var.servicebus_topic_name
      SERVICEBUS_SUBSCRIPTION = var.servicebus_subscription_name
      BRIDGE_HEALTH_PORT      = "3001"
      METRICS_PORT            = "9465"
    }
  }

  # Secrets, by group: env name => Key Vault secret name. Each is a Container Apps secret that
  # references the vault with the role's identity; the value never appears in an app setting.
  secrets = {
    # loadConfig's production rules ask every role for these (one schema for all roles).
    common = {
      API_TOKEN            = "api-token"
      PAYLOAD_CODEC_KEYS   = "payload-codec-keys"
      WORKFLOW_ID_HASH_KEY = "workflow-id-hash-key"
    }
    temporal-mtls = {
      TEMPORAL_TLS_CERT = "temporal-tls-cert"
      TEMPORAL_TLS_KEY  = "temporal-tls-key"
    }
    temporal-api-key = {
      TEMPORAL_API_KEY = "temporal-api-key"
    }
    twilio = {
      TWILIO_ACCOUNT_SID = "twilio-account-sid"
      TWILIO_AUTH_TOKEN  = "twilio-auth-token"
    }
    plivo = {
      PLIVO_AUTH_ID    = "plivo-auth-id"
      PLIVO_AUTH_TOKEN = "plivo-auth-token"
    }
  }

  # Which groups each kind of role gets.
  setting_groups = {
    api     = ["common", "database", "api"]
    worker  = ["common", "database", "worker"]
    bridge  = ["common", "bridge"]
    migrate = ["common", "database"]
  }
  secret_groups = {
    api     = ["common"]
    worker  = ["common"]
    bridge  = ["common"]
    migrate = ["common"]
  }
}

# Groups chosen by the variables: the Temporal credential kind and the providers in use.
locals {
  providers_in_use = distinct(compact([var.sms_provider, var.sms_failover_provider]))
  optional_secret_groups = concat(
    [var.temporal_auth == "mtls" ? "temporal-mtls" : "temporal-api-key"],
    [for p in local.providers_in_use : p if p != "simulator"],
  )
  public_base_url = var.public_base_url != "" ? var.public_base_url : "https://${var.name}-api.${azurerm_container_app_environment.this.default_domain}"

  role_settings = {
    # Empty values are left out: loadConfig treats them as unset anyway.
    for kind, groups in local.setting_groups : kind => {
      for name, value in merge([for g in groups : local.settings[g]]...) : name => value if value != ""
    }
  }
  role_secrets = {
    for kind, groups in local.secret_groups : kind => merge([for g in concat(groups, local.optional_secret_groups) : local.secrets[g]]...)
  }
  # Key Vault secret names each kind of role references.
  role_secret_names = { for kind, s in local.role_secrets : kind => toset(values(s)) }
}
