package io.arbiter.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the load drivers read about the server (and the machine) at the edges of their measured
 * window, so that the server's CPU and counters cover exactly that window: a process's CPU time
 * and a CPU's busy and steal time from {@code /proc}, in clock ticks, as the load scripts record
 * them; and the server's Prometheus text.
 */
final class ServerProbe {
  private ServerProbe() {}

  /** utime + stime of process {@code pid} in clock ticks; 0 for an empty pid. */
  static long processTicks(String pid) throws IOException {
    if (pid == null || pid.isEmpty()) {
      return 0;
    }
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  /**
   * Busy (user + nice + system) and steal ticks of CPU {@code cpu} from {@code /proc/stat}; of all
   * CPUs when {@code cpu} is empty or not a single number.
   */
  static long[] cpuTicks(String cpu) throws IOException {
    String prefix = cpu == null || !cpu.matches("\\d+") ? "cpu " : "cpu" + cpu + " ";
    for (String line : Files.readAllLines(Path.of("/proc/stat"))) {
      if (line.startsWith(prefix)) {
        String[] c = line.trim().split("\\s+");
        return new long[] {Long.parseLong(c[1]) + Long.parseLong(c[2]) + Long.parseLong(c[3]), Long.parseLong(c[8])};
      }
    }
    return new long[] {0, 0};
  }

  /** utime+stime of the server, busy and steal ticks of its CPU; null without a pid. */
  static long[] serverTicks(String pid, String cpu) throws IOException {
    if (pid == null || pid.isEmpty()) {
      return null;
    }
    long[] c = cpuTicks(cpu);
    return new long[] {processTicks(pid), c[0], c[1]};
  }

  /** The body of {@code url} (must answer 200); null for an empty url. */
  static String fetch(HttpClient http, String url) throws IOException, InterruptedException {
    if (url == null || url.isEmpty()) {
      return null;
    }
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException(url + " answered " + r.statusCode());
    }
    return r.body();
  }
}
