import { spawnSync } from "node:child_process";
import { type TerraformStack, Testing } from "cdktf";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../infra/app";
import { exampleSite } from "../../infra/site";

// `cdktf synth --hcl` is the exit from cdktf (archived upstream): its output must stay valid HCL.
// `terraform fmt -` parses HCL offline, without providers, and exits 2 on a syntax error.
const terraform = spawnSync("terraform", ["version"], { encoding: "utf8" }).status === 0;

describe.skipIf(!terraform)("cdktf synth --hcl", () => {
  const { bootstrap, platforms } = buildApp({ site: exampleSite(), outdir: Testing.app().outdir });
  const stacks: [string, TerraformStack][] = [
    ["bootstrap", bootstrap],
    ["dev", platforms.dev],
    ["staging", platforms.staging],
    ["prod", platforms.prod],
  ];

  it.each(stacks)("%s renders to HCL that Terraform parses", (_name, stack) => {
    const { hcl } = stack.toHclTerraform() as { hcl: string };
    const fmt = spawnSync("terraform", ["fmt", "-no-color", "-"], { input: hcl, encoding: "utf8" });
    expect(fmt.status, fmt.stderr).toBe(0);
  });

  it("the check catches the mangling cdktf produces for quoted strings with references", () => {
    const bad = 'resource "x" "y" {\n  filter = "metric.type=" cloudsql.googleapis.com / x " AND y"\n}\n';
    expect(spawnSync("terraform", ["fmt", "-no-color", "-"], { input: bad, encoding: "utf8" }).status).toBe(
      2,
    );
  });
});

describe("Terraform version pin", () => {
  it("is written into every stack's HCL as well as its JSON", () => {
    const { bootstrap, platforms } = buildApp({ site: exampleSite(), outdir: Testing.app().outdir });
    for (const stack of [bootstrap, platforms.dev, platforms.prod]) {
      const { hcl } = stack.toHclTerraform() as { hcl: string };
      const block = hcl.slice(0, hcl.indexOf("\nprovider "));
      expect(block).toMatch(/^terraform \{\nrequired_version = ">= 1\.5\.0, < 2\.0\.0"\n/);
      expect(block).not.toMatch(/^\s*0 = /m);
    }
  });
});
