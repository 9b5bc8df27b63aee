import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MonitoringDashboard } from "@cdktf/provider-google/lib/monitoring-dashboard";
import { AssetType, Fn, TerraformAsset, Token } from "cdktf";
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

/**
 * One Cloud Monitoring dashboard per `dashboards/*.json` file (widget rows expanded to a mosaic).
 *
 * The expanded JSON is shipped as a file asset and read with Terraform's `templatefile()`, with values
 * known only at apply (queue name, uptime check id) passed as template variables. Inlining it as a string
 * would work for `cdk.tf.json` but not for `cdktf synth --hcl`, whose renderer drops one level of escaping
 * from JSON nested in a string (the filters' quotes).
 */
export class Dashboards extends Construct {
  readonly dashboards: readonly MonitoringDashboard[];

  constructor(scope: Construct, id: string, props: DashboardsProps) {
    super(scope, id);
    // Values Terraform resolves at apply become template variables; plain values are inlined.
    const templateVars: Record<string, string> = {};
    const vars = Object.fromEntries(
      Object.entries(props.vars).map(([name, value]) => {
        if (!Token.isUnresolved(value)) return [name, value];
        templateVars[name.toLowerCase()] = String(value);
        return [name, `\${${name.toLowerCase()}}`];
      }),
    );
    const staging = mkdtempSync(join(tmpdir(), "switchboard-dashboards-"));
    this.dashboards = readMonitoringFiles(props.directory ?? DASHBOARDS_DIR).map((file) => {
      const doc = validateDashboard(fillTemplate(file.content, vars, file.path), file.path);
      const json = dashboardJson(doc);
      assertKnownMetrics(json, props.catalog, file.path);
      const path = join(staging, `${file.name}.json`);
      writeFileSync(path, `${JSON.stringify(json, null, 2)}\n`);
      const asset = new TerraformAsset(this, `${file.name}-json`, { path, type: AssetType.FILE });
      return new MonitoringDashboard(this, file.name, {
        project: props.projectId,
        dashboardJson: Fn.templatefile(asset.path, templateVars),
      });
    });
  }
}
