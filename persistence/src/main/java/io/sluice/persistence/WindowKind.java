package io.sluice.persistence;

/** The UTC calendar-aligned windows usage is counted in. Stored by name: do not rename. */
public enum WindowKind {
  MINUTE,
  DAY,
  MONTH
}
