package io.arbiter.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.ServerStreamTracer;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ArrivalTest {
  @Test
  void onlyTheNamedMethodsAreTimed() {
    ServerStreamTracer.Factory f = Arrival.tracer(Set.of("pkg.Svc/Timed"));
    ServerStreamTracer timed = f.newServerStreamTracer("pkg.Svc/Timed", new Metadata());
    ServerStreamTracer other = f.newServerStreamTracer("pkg.Svc/Other", new Metadata());

    Context root = Context.ROOT;
    assertThat(other.filterContext(root)).isSameAs(root); // no context, no allocation
    assertThat(f.newServerStreamTracer("pkg.Svc/Other2", new Metadata())).isSameAs(other);
    Context withTimes = timed.filterContext(root);
    assertThat(withTimes).isNotSameAs(root);

    Context previous = withTimes.attach();
    try {
      assertThat(Arrival.queuedNanos()).isZero(); // not started yet
      timed.serverCallStarted((ServerStreamTracer.ServerCallInfo<?, ?>) null);
      assertThat(Arrival.queuedNanos()).isGreaterThanOrEqualTo(0);
    } finally {
      withTimes.detach(previous);
    }
  }
}
