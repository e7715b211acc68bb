package io.sluice.node;

/**
 * The fuzzing time of every {@code @FuzzTest} target, in one place. Jazzer 0.24.0 reads a target's
 * time only from its annotation ({@code maxDuration}, which has no property or environment
 * override), so a longer run changes this constant (see the README's "Fuzzing" paragraph). Without
 * {@code JAZZER_FUZZ} the targets run once per seed of their checked-in corpus and this has no
 * effect.
 */
public final class FuzzBudget {
  private FuzzBudget() {}

  /** Per target in CI's {@code -Pfuzz} run: 20 s each keeps all of them within a few minutes. */
  public static final String CI = "20s";
}
