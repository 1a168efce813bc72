package io.arbiter.bench;

import io.envoyproxy.envoy.extensions.common.ratelimit.v3.RateLimitDescriptor;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes {@code N} gRPC-framed {@code ShouldRateLimit} requests for {@code load/quota.sh}, one per
 * file {@code DIR/rls-K.bin}, each for a different user and client address, and the quota config
 * they are measured against. A request is what Envoy's rate-limit filter sends with the usual two
 * actions ({@code remote_address}, and {@code request_headers} of {@code x-user-id} beneath it):
 *
 * <pre>
 * domain: edge, hits_addend: 0 (means 1)
 * descriptors: [{remote_address: 10.0.K/256.K%256},
 *               {remote_address: 10.0.K/256.K%256, user: user-K}]
 * </pre>
 *
 * h2load sends one body per process, so the harness runs one h2load per file: {@code N} users and
 * {@code N} addresses, {@code 2N} quota buckets, every request taking two.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.arbiter.bench.RateLimitBodyFiles DIR N
 * java -cp benchmarks/target/benchmarks.jar io.arbiter.bench.RateLimitBodyFiles --config
 *     memquota|redisquota [REDIS_URL] OUT.yaml
 * </pre>
 */
public final class RateLimitBodyFiles {
  private RateLimitBodyFiles() {}

  static RateLimitRequest request(int k) {
    String address = "10.0." + (k / 256 % 256) + "." + (k % 256);
    return RateLimitRequest.newBuilder()
        .setDomain("edge")
        .addDescriptors(RateLimitDescriptor.newBuilder()
            .addEntries(entry("remote_address", address)))
        .addDescriptors(RateLimitDescriptor.newBuilder()
            .addEntries(entry("remote_address", address))
            .addEntries(entry("user", "user-" + k)))
        .build();
  }

  private static RateLimitDescriptor.Entry entry(String key, String value) {
    return RateLimitDescriptor.Entry.newBuilder().setKey(key).setValue(value).build();
  }

  /**
   * Issue 5's config shape, with limits no benchmark reaches (every answer is OK, so verifying the
   * answers is counting them): a per-user quota for descriptors with a {@code user} entry and a
   * per-address quota for those with only {@code remote_address}, fixed windows of a minute.
   */
  static String config(String adapter, String redisUrl) {
    String redis = adapter.equals("redisquota")
        ? "      redis: {url: \"" + redisUrl + "\", timeout: 1s, failOpen: false}\n" : "";
    return "# load/quota.sh: " + adapter + ", limits high enough that every answer is OK.\n"
        + "handlers:\n"
        + "  - name: quota\n"
        + "    adapter: " + adapter + "\n"
        + "    params:\n"
        + redis
        + "      quotas:\n"
        + "        - {name: per-user, maxAmount: 1000000000, validDuration: 60s, algorithm: FIXED_WINDOW}\n"
        + "        - {name: per-address, maxAmount: 1000000000, validDuration: 60s, algorithm: FIXED_WINDOW}\n"
        + "instances:\n"
        + "  - name: per-user\n"
        + "    template: quota\n"
        + "    params: {dimensions: {user: \"ratelimit.descriptor['user']\"}}\n"
        + "  - name: per-address\n"
        + "    template: quota\n"
        + "    params: {dimensions: {address: \"ratelimit.descriptor['remote_address']\"}}\n"
        + "rules:\n"
        + "  - name: limit-users\n"
        + "    match: \"ratelimit.domain == 'edge' && 'user' in ratelimit.descriptor\"\n"
        + "    actions: [{handler: quota, instances: [per-user]}]\n"
        + "  - name: limit-addresses\n"
        + "    match: \"ratelimit.domain == 'edge' && !('user' in ratelimit.descriptor)"
        + " && 'remote_address' in ratelimit.descriptor\"\n"
        + "    actions: [{handler: quota, instances: [per-address]}]\n";
  }

  public static void main(String[] args) throws IOException {
    if (args.length >= 3 && args[0].equals("--config")) {
      String url = args.length == 4 ? args[2] : "redis://127.0.0.1:6379";
      Files.writeString(Path.of(args[args.length - 1]), config(args[1], url));
      return;
    }
    if (args.length != 2) {
      System.err.println("usage: RateLimitBodyFiles DIR N | --config memquota|redisquota [URL] OUT.yaml");
      System.exit(2);
    }
    Path dir = Files.createDirectories(Path.of(args[0]));
    int n = Integer.parseInt(args[1]);
    int bytes = 0;
    for (int k = 0; k < n; k++) {
      byte[] framed = GrpcBodyFile.frame(request(k).toByteArray());
      Files.write(dir.resolve("rls-" + k + ".bin"), framed);
      bytes = framed.length;
    }
    System.out.println("wrote " + n + " ShouldRateLimit bodies to " + dir + " (" + bytes + " bytes each)");
  }
}
