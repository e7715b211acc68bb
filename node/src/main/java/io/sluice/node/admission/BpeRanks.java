package io.sluice.node.admission;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

/**
 * A byte-pair encoding's ranks in flat arrays, and the token count of a piece by tiktoken's merge
 * rule (merge the adjacent pair of lowest rank, leftmost first, until no pair is a token).
 *
 * <p>It exists for memory: jtokkit keeps {@code o200k_base}'s 200,000 ranks in hash maps of boxed
 * keys and values, and an inverse map for decoding, ~38 MB of live heap on every node. Counting
 * needs neither boxes nor decoding: here the token bytes sit in one array, with an open-addressing
 * table of token ids, ~5 MB. Merging uses a heap, so a long piece costs O(n log n), not O(n²).
 */
final class BpeRanks {
  private final byte[] bytes;
  private final int[] offsets; // token i is bytes[offsets[i], offsets[i + 1])
  private final int[] table; // token id + 1 at its hash slot, 0 for empty
  private final int mask;
  /** The longest token's length: a longer part is no token, so its lookup is skipped unhashed. */
  private final int maxTokenBytes;

  private BpeRanks(byte[] bytes, int[] offsets, int tokens) {
    this.bytes = bytes;
    this.offsets = offsets;
    int longest = 0;
    for (int id = 0; id < tokens; id++) {
      longest = Math.max(longest, offsets[id + 1] - offsets[id]);
    }
    this.maxTokenBytes = longest;
    int size = Integer.highestOneBit(Math.max(16, tokens * 2)) << 1;
    this.table = new int[size];
    this.mask = size - 1;
    for (int id = 0; id < tokens; id++) {
      int slot = hash(bytes, offsets[id], offsets[id + 1]) & mask;
      while (table[slot] != 0) {
        slot = (slot + 1) & mask;
      }
      table[slot] = id + 1;
    }
  }

  /**
   * Reads a tiktoken rank file ({@code base64-token rank} per line, ranks 0..n-1 in order), as
   * jtokkit ships them ({@code /com/knuddels/jtokkit/o200k_base.tiktoken}).
   */
  static BpeRanks load(String resource) {
    try (InputStream in = BpeRanks.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing tokenizer ranks: " + resource);
      }
      BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII), 1 << 16);
      byte[] all = new byte[1 << 20];
      int[] offsets = new int[1 << 16];
      int used = 0;
      int tokens = 0;
      Base64.Decoder base64 = Base64.getDecoder();
      String line;
      while ((line = reader.readLine()) != null) {
        int space = line.indexOf(' ');
        if (space <= 0) {
          continue;
        }
        int rank = Integer.parseInt(line, space + 1, line.length(), 10);
        if (rank != tokens) {
          throw new IllegalStateException(resource + ": ranks are not 0..n-1 in order at " + rank);
        }
        byte[] token = base64.decode(line.substring(0, space));
        if (used + token.length > all.length) {
          all = Arrays.copyOf(all, all.length * 2);
        }
        if (tokens + 2 > offsets.length) {
          offsets = Arrays.copyOf(offsets, offsets.length * 2);
        }
        offsets[tokens] = used;
        System.arraycopy(token, 0, all, used, token.length);
        used += token.length;
        tokens++;
      }
      offsets[tokens] = used;
      return new BpeRanks(Arrays.copyOf(all, used), Arrays.copyOf(offsets, tokens + 1), tokens);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The rank (token id) of {@code b[from, to)}, or -1 when it is no token. */
  int rank(byte[] b, int from, int to) {
    int len = to - from;
    if (len > maxTokenBytes) {
      return -1;
    }
    int slot = hash(b, from, to) & mask;
    int entry;
    while ((entry = table[slot]) != 0) {
      int id = entry - 1;
      int start = offsets[id];
      if (offsets[id + 1] - start == len && Arrays.equals(bytes, start, start + len, b, from, to)) {
        return id;
      }
      slot = (slot + 1) & mask;
    }
    return -1;
  }

  /** The longest token, in bytes. */
  int maxTokenBytes() {
    return maxTokenBytes;
  }

  /**
   * The number of tokens the piece {@code b[from, to)} encodes to. Takes O(n log n) time and
   * ~36 bytes of scratch per byte of the piece, so callers bound n (see TokenEstimator).
   */
  int count(byte[] b, int from, int to) {
    int n = to - from;
    if (n <= 1) {
      return n;
    }
    if (rank(b, from, to) >= 0) {
      return 1;
    }
    // Parts are nodes 0..n-1 (node i starts at byte from + i); merging keeps the left node.
    int[] next = new int[n];
    int[] prev = new int[n];
    int[] pair = new int[n]; // rank of node i merged with next[i], or -1
    for (int i = 0; i < n; i++) {
      next[i] = i + 1;
      prev[i] = i - 1;
    }
    long[] heap = new long[3 * n]; // n - 1 pairs, then at most two new ones per merge
    int size = 0;
    for (int i = 0; i + 1 < n; i++) {
      pair[i] = rank(b, from + i, from + i + 2);
      if (pair[i] >= 0) {
        size = push(heap, size, key(pair[i], i));
      }
    }
    pair[n - 1] = -1;
    int parts = n;
    while (size > 0) {
      long top = heap[0];
      size = pop(heap, size);
      int i = (int) top;
      int r = (int) (top >>> 32);
      if (pair[i] != r || next[i] >= n) {
        continue; // stale: node i's pair changed since
      }
      int j = next[i];
      next[i] = next[j];
      if (next[j] < n) {
        prev[next[j]] = i;
      }
      pair[j] = -1;
      parts--;
      pair[i] = next[i] < n ? rank(b, from + i, from + end(next, next[i], n)) : -1;
      if (pair[i] >= 0) {
        size = push(heap, size, key(pair[i], i));
      }
      int p = prev[i];
      if (p >= 0) {
        pair[p] = rank(b, from + p, from + end(next, i, n));
        if (pair[p] >= 0) {
          size = push(heap, size, key(pair[p], p));
        }
      }
    }
    return parts;
  }

  /** The end (relative) of the part that node {@code i} starts. */
  private static int end(int[] next, int i, int n) {
    return next[i] < n ? next[i] : n;
  }

  /** Lowest rank first, then leftmost. */
  private static long key(int rank, int node) {
    return ((long) rank << 32) | node;
  }

  private static int push(long[] heap, int size, long key) {
    if (size == heap.length) {
      // cannot happen: at most n - 1 first pairs and two per merge
      throw new IllegalStateException("heap overflow");
    }
    int i = size;
    heap[i] = key;
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      if (heap[parent] <= heap[i]) {
        break;
      }
      long t = heap[parent];
      heap[parent] = heap[i];
      heap[i] = t;
      i = parent;
    }
    return size + 1;
  }

  private static int pop(long[] heap, int size) {
    size--;
    heap[0] = heap[size];
    int i = 0;
    while (true) {
      int l = 2 * i + 1;
      if (l >= size) {
        break;
      }
      int m = l + 1 < size && heap[l + 1] < heap[l] ? l + 1 : l;
      if (heap[i] <= heap[m]) {
        break;
      }
      long t = heap[m];
      heap[m] = heap[i];
      heap[i] = t;
      i = m;
    }
    return size;
  }

  private static int hash(byte[] b, int from, int to) {
    int h = 0x9e3779b9;
    for (int i = from; i < to; i++) {
      h = (h ^ b[i]) * 0x01000193;
    }
    return h ^ (h >>> 16);
  }
}
