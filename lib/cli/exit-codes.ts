/** The command's exit codes. */
export const exitCodes = {
  ok: 0,
  /** A budget failed or a step errored (run); a regression (compare, compare-models, history --check). */
  failed: 1,
  /** Bad command line, configuration, output folder or input shapes: nothing was measured. */
  usage: 2,
  /** The model, its runtime or the results store could not be opened: nothing was measured. */
  cannotRun: 3,
  /** The audit ran but a report could not be written where asked (the JSON report went to a fallback file, whose path is printed) or recorded in the store. */
  reportsNotWritten: 4,
} as const;

export const exitCodeHelp = `Exit codes: 0 passed; 1 a budget failed, a step errored, or a regression (compare, compare-models, history --check); 2 bad usage, configuration, output folder or shapes (nothing measured); 3 the model or the results store could not be opened; 4 the reports could not be written (the JSON report went to a fallback file, whose path is printed) or recorded in the store.`;
