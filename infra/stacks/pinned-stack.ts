import { TerraformStack } from "cdktf";

/**
 * The Terraform versions every stack accepts. 1.5 is the floor the docs rely on; the workflows pin one
 * release inside this range (TERRAFORM_VERSION) and a test keeps the two in step. Provider versions need no
 * pin here: each prebuilt cdktf provider writes its exact version into `required_providers` (google 6.50.0,
 * time 0.13.1), and each stack's committed `.terraform.lock.hcl` fixes the checksums.
 */
export const TERRAFORM_REQUIRED_VERSION = ">= 1.5.0, < 2.0.0";

/**
 * A stack that writes `required_version` into its `terraform` block, in JSON and in HCL. Not an
 * `addOverride`: cdktf 0.21's HCL renderer prints any extra `terraform` attribute as `0 = "<name>"`, which
 * would break `cdktf synth --hcl`, the exit from cdktf.
 */
export abstract class PinnedStack extends TerraformStack {
  override toTerraform(): { [key: string]: unknown } {
    const tf = super.toTerraform() as { terraform?: Record<string, unknown> };
    return { ...tf, terraform: { ...tf.terraform, required_version: TERRAFORM_REQUIRED_VERSION } };
  }

  override toHclTerraform(): { [key: string]: unknown } {
    const out = super.toHclTerraform() as { hcl: string };
    const pin = `required_version = "${TERRAFORM_REQUIRED_VERSION}"`;
    return { ...out, hcl: out.hcl.replace(/^terraform \{\n/, `terraform {\n${pin}\n`) };
  }
}
