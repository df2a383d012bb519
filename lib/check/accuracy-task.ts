/**
 * The accuracy step's child task: one reference case run and compared.
 */
import type { Task } from '../isolate/protocol.js';
import type { ReferenceCase } from '../reference/load.js';
import { casesOutcome } from './run-case.js';
import type { Tolerance } from './tensor-diff.js';

export const casesTask: Task = (item, { model, common }) => {
  const { tolerance, topK } = common as { tolerance: Tolerance; topK?: number };
  return casesOutcome(model!, item as ReferenceCase, tolerance, topK === undefined ? {} : { topK });
};
