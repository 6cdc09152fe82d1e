resource "azurerm_container_app_environment" "this" {
  name                               = "cae-${var.name}"
  location                           = var.location
  resource_group_name                = var.resource_group_name
  log_analytics_workspace_id         = var.log_analytics_workspace_id
  infrastructure_subnet_id           = var.apps_subnet_id
  infrastructure_resource_group_name = "rg-${var.name}-cae-infra"
  internal_load_balancer_enabled     = false
  zone_redundancy_enabled            = var.zone_redundant
  tags                               = var.tags

  workload_profile {
    name                  = "Consumption"
    workload_profile_type = "Consumption"
  }
}

locals {
  image = "${var.acr_login_server}/sms-order-confirmation:${var.image_tag}"

  # One app per role, and one per worker queue role (config/worker.ts WORKER_QUEUES): orders,
  # consent and send scale on different signals (infra/README.md, "Scaling"), so they are separate
  # apps on the same image.
  apps = {
    api = {
      kind          = "api"
      command       = ["node", "dist/api/main.js"]
      queues        = null
      health_port   = 3000
      liveness      = "/health/live"
      readiness     = "/health/ready"
      metrics_port  = 3000
      metrics_job   = "sms-api"
      metrics_token = true
    }
    worker-orders = {
      kind          = "worker"
      command       = ["node", "dist/workers/main.js"]
      queues        = "orders"
      health_port   = 9464
      liveness      = "/metrics"
      readiness     = "/metrics"
      metrics_port  = 9464
      metrics_job   = "sms-worker"
      metrics_token = false
    }
    worker-consent = {
      kind          = "worker"
      command       = ["node", "dist/workers/main.js"]
      queues        = "consent"
      health_port   = 9464
      liveness      = "/metrics"
      readiness     = "/metrics"
      metrics_port  = 9464
      metrics_job   = "sms-worker"
      metrics_token = false
    }
    worker-send = {
      kind          = "worker"
      command       = ["node", "dist/workers/main.js"]
      queues        = "send"
      health_port   = 9464
      liveness      = "/metrics"
      readiness     = "/metrics"
      metrics_port  = 9464
      metrics_job   = "sms-worker"
      metrics_token = false
    }
    bridge = {
      kind          = "bridge"
      command       = ["node", "dist/bridge/main.js"]
      queues        = null
      health_port   = 3001
      liveness      = "/health/live"
      readiness     = "/health/ready"
      metrics_port  = 9465
      metrics_job   = "sms-bridge"
      metrics_token = false
    }
  }

  # The worker queue each worker app's KEDA Temporal rule watches (temporal/contracts.ts names).
  worker_task_queues = {
    worker-orders  = var.temporal_task_queue
    worker-consent = "${var.temporal_task_queue}.consent"
  }

  # The sidecar's Prometheus config: this replica's role only, on localhost, written out at start
  # (__REPLICA__ becomes the replica's host name, so each replica is its own `instance`).
  prometheus_config = { for name, app in local.apps : name => yamlencode({
    global = { scrape_interval = "30s" }
    scrape_configs = [merge(
      {
        job_name       = app.metrics_job
        static_configs = [{ targets = ["127.0.0.1:${app.metrics_port}"], labels = { instance = "__REPLICA__", app = name } }]
      },
      app.metrics_token ? { authorization = { type = "Bearer", credentials_file = "/tmp/scrape-token" } } : {},
    )]
    remote_write = [{
      url     = var.prometheus_remote_write_url
      azuread = { cloud = "AzurePublic", managed_identity = { client_id = var.identities[app.kind].client_id } }
    }]
  }) }
}

resource "azurerm_container_app" "this" {
  for_each                     = local.apps
  name                         = "${var.name}-${each.key}"
  container_app_environment_id = azurerm_container_app_environment.this.id
  resource_group_name          = var.resource_group_name
  revision_mode                = "Single"
  workload_profile_name        = "Consumption"
  tags                         = var.tags

  identity {
    type         = "UserAssigned"
    identity_ids = [var.identities[each.value.kind].id]
  }

  registry {
    server   = var.acr_login_server
    identity = var.identities[each.value.kind].id
  }

  dynamic "secret" {
    for_each = local.role_secret_names[each.value.kind]
    content {
      name                = secret.value
      key_vault_secret_id = var.key_vault_secret_ids[secret.value]
      identity            = var.identities[each.value.kind].id
    }
  }

  dynamic "secret" {
    for_each = each.value.kind == "bridge" ? ["servicebus-keda-listen"] : []
    content {
      name                = secret.value
      key_vault_secret_id = var.key_vault_secret_ids[secret.value]
      identity            = var.identities[each.value.kind].id
    }
  }

  # Only the api is reachable, and only over https: the provider webhooks and the internal API.
  dynamic "ingress" {
    for_each = each.value.kind == "api" ? [1] : []
    content {
      external_enabled           = true
      target_port                = 3000
      transport                  = "http"
      allow_insecure_connections = false

      traffic_weight {
        latest_revision = true
        percentage      = 100
      }
    }
  }

  template {
    min_replicas = var.scale[each.key].min
    max_replicas = var.scale[each.key].max
    # The worker drains for WORKER_SHUTDOWN_GRACE_SECONDS (30 s) after SIGTERM: this outlasts it.
    termination_grace_period_seconds = 45

    container {
      name    = each.value.kind
      image   = local.image
      command = each.value.command
      cpu     = 0.5
      memory  = "1Gi"

      dynamic "env" {
        for_each = local.role_settings[each.value.kind]
        content {
          name  = env.key
          value = env.value
        }
      }

      dynamic "env" {
        for_each = local.role_secrets[each.value.kind]
        content {
          name        = env.key
          secret_name = env.value
        }
      }

      # DefaultAzureCredential (Service Bus) and tedious (SQL) pick this user-assigned identity.
      env {
        name  = "AZURE_CLIENT_ID"
        value = var.identities[each.value.kind].client_id
      }

      dynamic "env" {
        for_each = each.value.queues == null ? [] : [each.value.queues]
        content {
          name  = "WORKER_QUEUES"
          value = env.value
        }
      }

      liveness_probe {
        transport        = "HTTP"
        port             = each.value.health_port
        path             = each.value.liveness
        interval_seconds = 30
        timeout          = 10
      }

      readiness_probe {
        transport        = "HTTP"
        port             = each.value.health_port
        path             = each.value.readiness
        interval_seconds = 10
        timeout          = 5
      }

      startup_probe {
        transport               = "HTTP"
        port                    = each.value.health_port
        path                    = each.value.liveness
        interval_seconds        = 5
        failure_count_threshold = 24
      }
    }

    # Prometheus in agent mode beside each replica: scrapes this replica's /metrics and
    # remote-writes to the Azure Monitor workspace, where ops/prometheus/alerts.yml runs.
    container {
      name    = "prometheus-agent"
      image   = var.prometheus_agent_image
      cpu     = 0.25
      memory  = "0.5Gi"
      command = ["/bin/sh", "-c"]
      args = [join(" && ", compact([
        "printf '%s' \"$PROMETHEUS_CONFIG\" | sed \"s/__REPLICA__/$HOSTNAME/g\" > /tmp/prometheus.yml",
        each.value.metrics_token ? "printf '%s' \"$SCRAPE_BEARER_TOKEN\" > /tmp/scrape-token" : "",
        "exec /bin/prometheus --agent --config.file=/tmp/prometheus.yml --storage.agent.path=/tmp/agent",
      ]))]

      env {
        name  = "PROMETHEUS_CONFIG"
        value = local.prometheus_config[each.key]
      }

      dynamic "env" {
        for_each = each.value.metrics_token ? ["api-token"] : []
        content {
          name        = "SCRAPE_BEARER_TOKEN"
          secret_name = env.value
        }
      }
    }

    # --- Scaling (infra/README.md, "Scaling", says why) ---
    dynamic "http_scale_rule" {
      for_each = each.value.kind == "api" ? [1] : []
      content {
        name                = "http-concurrency"
        concurrent_requests = "50"
      }
    }

    # Bridge: the subscription's backlog (KEDA azure-servicebus).
    dynamic "custom_scale_rule" {
      for_each = each.value.kind == "bridge" ? [1] : []
      content {
        name             = "servicebus-backlog"
        custom_rule_type = "azure-servicebus"
        metadata = {
          namespace        = var.servicebus_namespace_name
          topicName        = var.servicebus_topic_name
          subscriptionName = var.servicebus_subscription_name
          # SERVICEBUS_MAX_CONCURRENT_CALLS is 10 per replica: 50 waiting is five replicas' worth.
          messageCount = "50"
        }
        authentication {
          secret_name       = "servicebus-keda-listen"
          trigger_parameter = "connection"
        }
      }
    }

    # Orders and consent workers: the task queue's backlog (KEDA temporal scaler).
    dynamic "custom_scale_rule" {
      for_each = var.worker_scale_signal == "temporal" && contains(keys(local.worker_task_queues), each.key) ? [1] : []
      content {
        name             = "temporal-backlog"
        custom_rule_type = "temporal"
        metadata = {
          endpoint        = var.temporal_address
          namespace       = var.temporal_namespace
          taskQueue       = local.worker_task_queues[each.key]
          targetQueueSize = "20"
          queueTypes      = "workflow,activity"
        }
        dynamic "authentication" {
          for_each = var.temporal_auth == "mtls" ? { cert = "temporal-tls-cert", key = "temporal-tls-key" } : { apiKey = "temporal-api-key" }
          content {
            trigger_parameter = authentication.key
            secret_name       = authentication.value
          }
        }
      }
    }

    # The send workers, and the others when worker_scale_signal = cpu: CPU. The send queue's
    # backlog is held back by its server-side rate limit, so it never says "more replicas".
    dynamic "custom_scale_rule" {
      for_each = each.value.kind == "worker" && (var.worker_scale_signal == "cpu" || !contains(keys(local.worker_task_queues), each.key)) ? [1] : []
      content {
        name             = "cpu"
        custom_rule_type = "cpu"
        metadata = {
          type  = "Utilization"
          value = "70"
        }
      }
    }
  }

  lifecycle {
    # deploy.yml rolls the image with `az containerapp update --image`; Terraform then adopts it on
    # the next apply through var.image_tag, so no drift either way.
    ignore_changes = [template[0].container[0].image]
  }
}

# The migrations: run by deploy.yml (az containerapp job start) before the apps get a new revision.
resource "azurerm_container_app_job" "migrate" {
  name                         = "${var.name}-migrate"
  location                     = var.location
  resource_group_name          = var.resource_group_name
  container_app_environment_id = azurerm_container_app_environment.this.id
  workload_profile_name        = "Consumption"
  replica_timeout_in_seconds   = 1800
  replica_retry_limit          = 0
  tags                         = var.tags

  manual_trigger_config {
    parallelism              = 1
    replica_completion_count = 1
  }

  identity {
    type         = "UserAssigned"
    identity_ids = [var.identities["migrate"].id]
  }

  registry {
    server   = var.acr_login_server
    identity = var.identities["migrate"].id
  }

  dynamic "secret" {
    for_each = local.role_secret_names["migrate"]
    content {
      name                = secret.value
      key_vault_secret_id = var.key_vault_secret_ids[secret.value]
      identity            = var.identities["migrate"].id
    }
  }

  template {
    container {
      name    = "migrate"
      image   = local.image
      command = ["node", "dist/scripts/migrate.js"]
      cpu     = 0.5
      memory  = "1Gi"

      dynamic "env" {
        for_each = local.role_settings["migrate"]
        content {
          name  = env.key
          value = env.value
        }
      }

      dynamic "env" {
        for_each = local.role_secrets["migrate"]
        content {
          name        = env.key
          secret_name = env.value
        }
      }

      env {
        name  = "AZURE_CLIENT_ID"
        value = var.identities["migrate"].client_id
      }
    }
  }
}
