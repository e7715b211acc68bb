package io.sluice.node.admission;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The remembered token counts of text pieces, looked up by a range of the prompt rather than by a
 * piece cut out of it: a 1 KB prompt is some 200 pieces, and cutting each out allocated more than
 * the rest of the request's admission. An open-addressing table of immutable entries, filled up to
 * {@code maxEntries} and then only read (as the map it replaces: no eviction, words repeat). Lock-free:
 * an entry is published by a compare-and-set into an empty slot and never changes afterwards.
 */
final class PieceCounts {
  /** Probes before a lookup gives up; the table is at most half full, so this is rarely reached. */
  private static final int MAX_PROBES = 16;

  private record Entry(String piece, int count) {}

  private final AtomicReferenceArray<Entry> slots;
  private final int mask;
  private final int maxEntries;
  private final AtomicInteger size = new AtomicInteger();

  PieceCounts(int maxEntries) {
    if (maxEntries < 1 || maxEntries > (1 << 28)) {
      throw new IllegalArgumentException("maxEntries must be in [1, 2^28]: " + maxEntries);
    }
    int capacity = Integer.highestOneBit(Math.max(2, maxEntries * 2 - 1)) << 1;
    this.slots = new AtomicReferenceArray<>(capacity);
    this.mask = capacity - 1;
    this.maxEntries = maxEntries;
  }

  /** The count remembered for {@code text[from, to)}, or -1. */
  int get(String text, int from, int to) {
    int len = to - from;
    int i = hash(text, from, to) & mask;
    for (int probe = 0; probe < MAX_PROBES; probe++, i = (i + 1) & mask) {
      Entry e = slots.getAcquire(i);
      if (e == null) {
        return -1;
      }
      if (e.piece.length() == len && text.regionMatches(from, e.piece, 0, len)) {
        return e.count;
      }
    }
    return -1;
  }

  /** Remembers {@code count} for {@code text[from, to)}, unless the table is full. */
  void put(String text, int from, int to, int count) {
    if (size.get() >= maxEntries) {
      return;
    }
    int len = to - from;
    int i = hash(text, from, to) & mask;
    Entry fresh = null;
    for (int probe = 0; probe < MAX_PROBES; probe++, i = (i + 1) & mask) {
      Entry e = slots.getAcquire(i);
      if (e == null) {
        if (fresh == null) {
          fresh = new Entry(text.substring(from, to), count);
        }
        if (slots.compareAndSet(i, null, fresh)) {
          size.incrementAndGet();
          return;
        }
        e = slots.getAcquire(i);
      }
      if (e.piece.length() == len && text.regionMatches(from, e.piece, 0, len)) {
        return; // another thread remembered it first
      }
    }
  }

  /** How many counts are remembered. */
  int size() {
    return size.get();
  }

  private static int hash(String text, int from, int to) {
    int h = 0;
    for (int i = from; i < to; i++) {
      h = 31 * h + text.charAt(i);
    }
    h *= 0x9E3779B9; // spread the low bits, which index the table
    return h ^ (h >>> 16);
  }
}
