/**
 * The Graph error a call is refused with (what the API answers for what it throws); a call that returns, or throws
 * anything else, fails the test.
 */
import { graphErrorOf } from "../../shared/http/errorMapping.js";
import { GraphError } from "../../shared/http/graphError.js";

export function refusal(run: () => unknown): GraphError {
  try {
    run();
  } catch (thrown) {
    const error = graphErrorOf(thrown);
    if (error instanceof GraphError) return error;
    throw thrown;
  }
  throw new Error("not refused");
}

/** The same for a call that answers with a promise. */
export async function refusalOf(run: () => Promise<unknown>): Promise<GraphError> {
  try {
    await run();
  } catch (thrown) {
    const error = graphErrorOf(thrown);
    if (error instanceof GraphError) return error;
    throw thrown;
  }
  throw new Error("not refused");
}
