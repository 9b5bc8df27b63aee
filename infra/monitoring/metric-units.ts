/**
 * Cloud Monitoring's unit grammar (a subset of UCUM), from the MetricDescriptor reference
 * (https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.metricDescriptors):
 *
 *   Expression = Component { "." Component } { "/" Component } ;
 *   Component  = ( [ PREFIX ] UNIT | "%" ) [ Annotation ] | Annotation | "1" ;
 *   Annotation = "{" NAME "}" ;
 *
 * A currency is not a unit: money is `{USD}` (an annotation, dimensionless) or `1`.
 */
const UNITS = ["bit", "By", "s", "min", "h", "d"];
const PREFIXES = ["k", "M", "G", "T", "P", "E", "Z", "Y", "m", "u", "n", "p", "f", "a", "z", "y"];
const BINARY_PREFIXES = ["Ki", "Mi", "Gi", "Ti", "Pi"];
const ANNOTATION = "\\{[!-z|~]+\\}"; // printable ASCII without blanks, `{` or `}`

const prefixed = `(?:${[...BINARY_PREFIXES, ...PREFIXES].join("|")})?(?:${UNITS.join("|")})`;
const component = `(?:(?:${prefixed}|%)(?:${ANNOTATION})?|${ANNOTATION}|1)`;
const EXPRESSION = new RegExp(`^${component}(?:\\.${component})*(?:/${component})*$`);

export function isMonitoringUnit(unit: string): boolean {
  return EXPRESSION.test(unit);
}
