/** The Graph error a call is refused with; a call that returns, or throws anything else, fails the test. */
import { GraphError } from "../../shared/http/graphError.js";

export function refusal(run: () => unknown): GraphError {
  try {
    run();
  } catch (error) {
    if (error instanceof GraphError) return error;
    throw error;
  }
  throw new Error("not refused");
}

/** The same for a call that answers with a promise. */
export async function refusalOf(run: () => Promise<unknown>): Promise<GraphError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof GraphError) return error;
    throw error;
  }
  throw new Error("not refused");
}
