/**
 * The {@code list} adapter, after Istio Mixer's: handlers that allow or deny a {@code listentry}
 * value by its presence in a whitelist or blacklist of strings, case-insensitive strings, regexes
 * or IP prefixes. Entries come inline and from a file or HTTP(S) provider that is refreshed on the
 * engine's scheduler; a list that cannot be refreshed is served until its ttl and then discarded,
 * after which checks fail so the engine's failure policy decides. Only {@link
 * io.arbiter.adapters.list.ListAdapter} is public; it is found by {@link java.util.ServiceLoader}.
 */
package io.arbiter.adapters.list;
