import { MonitoringDashboard } from "@cdktf/provider-google/lib/monitoring-dashboard";
import { Construct } from "constructs";
import type { MetricCatalog } from "../monitoring/metric-catalog";
import {
  assertKnownMetrics,
  DASHBOARDS_DIR,
  dashboardJson,
  fillTemplate,
  readMonitoringFiles,
  type TemplateVars,
  validateDashboard,
} from "../monitoring/monitoring-files";

export interface DashboardsProps {
  readonly projectId: string;
  /** Metrics the widgets may chart; anything else fails synth. */
  readonly catalog: MetricCatalog;
  /** Placeholder values (`${NAME}`) for the files. */
  readonly vars: TemplateVars;
  /** @default the repository's dashboards/ directory */
  readonly directory?: string;
}

/** One Cloud Monitoring dashboard per `dashboards/*.json` file (widget rows expanded to a mosaic). */
export class Dashboards extends Construct {
  readonly dashboards: readonly MonitoringDashboard[];

  constructor(scope: Construct, id: string, props: DashboardsProps) {
    super(scope, id);
    this.dashboards = readMonitoringFiles(props.directory ?? DASHBOARDS_DIR).map((file) => {
      const doc = validateDashboard(fillTemplate(file.content, props.vars, file.path), file.path);
      const json = dashboardJson(doc);
      assertKnownMetrics(json, props.catalog, file.path);
      return new MonitoringDashboard(this, file.name, {
        project: props.projectId,
        dashboardJson: JSON.stringify(json),
      });
    });
  }
}
