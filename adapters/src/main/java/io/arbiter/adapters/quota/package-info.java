/**
 * What the quota adapters ({@code memquota}, {@code redisquota}) share: the {@code quotas} params
 * model and its validation ({@link io.arbiter.adapters.quota.QuotaConfig}), the choice of a
 * bucket for an allocation (its key and its effective {@link io.arbiter.adapters.quota.BucketLimit}),
 * and the storage-independent math of the three algorithms ({@link
 * io.arbiter.adapters.quota.BucketState}), which {@code redisquota}'s Lua script repeats step for
 * step so both adapters give the same answers. Public only so the two adapter packages can use it;
 * it is not an API for other modules.
 */
package io.arbiter.adapters.quota;
