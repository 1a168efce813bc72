package io.arbiter.engine.spi;

import java.util.List;

/** Invalid handler params: every problem found, each as {@code field: reason}. */
public final class ParamsException extends RuntimeException {
  private final List<Params.Problem> problems;

  public ParamsException(List<Params.Problem> problems) {
    super(problems.size() + " invalid param(s): " + problems);
    this.problems = List.copyOf(problems);
  }

  public List<Params.Problem> problems() {
    return problems;
  }
}
