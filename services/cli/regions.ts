/** The `--region` option of the commands that take several regions: its syntax, and how its values add up. */

/** An AWS region name's shape, e.g. us-east-1, eu-central-2, us-gov-west-1. */
export const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/**
 * A commander option parser for `--region`: each value may list regions separated by commas; the regions of
 * every value add up, each once, in the order given. A value that is not a region name is refused with the
 * error `invalid` makes of the message (each command keeps the error class it reports such a value with).
 */
export function regionCollector(
  invalid: (message: string) => Error,
): (value: string, previous: string[]) => string[] {
  return (value, previous) => {
    const regions = value
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean);
    for (const region of regions) {
      if (!REGION_NAME.test(region)) throw invalid(`"${region}" is not a region, e.g. us-east-1`);
    }
    return [...new Set([...previous, ...regions])];
  };
}
