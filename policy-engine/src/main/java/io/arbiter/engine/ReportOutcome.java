package io.arbiter.engine;

/**
 * What became of a batch of reports.
 *
 * @param reports how many reports (access-log entries, say) the batch held
 * @param instances how many instances were built and handed to handlers
 * @param errors expressions that failed while building instances (each skips one instance)
 * @param failedHandlerBatches handler batches that failed or missed the report timeout
 */
public record ReportOutcome(int reports, int instances, int errors, int failedHandlerBatches) {}
