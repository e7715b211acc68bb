package io.sluice.node.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import java.net.InetAddress;
import java.util.function.LongSupplier;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.RemoteAddress;

/**
 * Node-local throttling of failed authentication per client address, so that guessing keys costs
 * the guesser and not the node. Every failed authentication (a 401 on an inference surface or the
 * admin API) takes a token from its address's bucket; while the bucket is empty, every request from
 * that address that needs authentication is answered 429 with Retry-After before any hashing or
 * store lookup.
 *
 * <p>The throttle is by address, not by key: a valid key sent from an address whose bucket is
 * empty is refused too (the check happens before the key is looked at, which is what keeps a
 * flood cheap). Clients at other addresses are never affected by someone else's guessing. Behind a
 * proxy or NAT all its clients share one address and one bucket; size {@code burst} for that.
 *
 * <p>Invariants: an address with no recent failures has no bucket (checking it allocates
 * nothing); at most {@code maxAddresses} buckets exist; a bucket never holds more than
 * {@code burst} tokens. Each node counts only the failures it saw.
 */
public final class AuthThrottle {
  private final AuthThrottleSettings settings;
  private final LongSupplier nanos;
  private final double tokensPerNano;
  private final Cache<InetAddress, Bucket> buckets;

  /** @param nanos a monotonic clock in nanoseconds ({@link System#nanoTime} in the node) */
  public AuthThrottle(AuthThrottleSettings settings, LongSupplier nanos) {
    this.settings = settings;
    this.nanos = nanos;
    this.tokensPerNano = settings.refillPerMinute() / 60e9;
    Ticker ticker = nanos::getAsLong;
    this.buckets = Caffeine.newBuilder().maximumSize(settings.maxAddresses()).ticker(ticker)
        .expireAfterAccess(settings.fullRefill()).executor(Runnable::run).build();
  }

  /** A throttle that never throttles, for tests and tools that build a surface without one. */
  public static AuthThrottle disabled() {
    return new AuthThrottle(new AuthThrottleSettings(false, 1, 1, 1), System::nanoTime);
  }

  /**
   * Whether {@code address} may try to authenticate now: 0 if it may, else the whole seconds
   * (at least 1) until its next attempt is allowed. A null (unknown) address is never throttled.
   */
  public long retryAfterSeconds(InetAddress address) {
    if (!settings.enabled() || address == null) {
      return 0;
    }
    Bucket bucket = buckets.getIfPresent(address);
    return bucket == null ? 0 : bucket.waitSeconds(nanos.getAsLong());
  }

  /**
   * The address of the TCP peer that sent {@code request} (the server's remote-address-attribute),
   * or null when unknown. Forwarded-for headers are not trusted: any client can write them.
   */
  public static InetAddress clientAddress(HttpRequest request) {
    return request.getAttribute(AttributeKeys.remoteAddress).flatMap(RemoteAddress::getAddress).orElse(null);
  }

  /** Counts one failed authentication from {@code address}. */
  public void failed(InetAddress address) {
    if (!settings.enabled() || address == null) {
      return;
    }
    long now = nanos.getAsLong();
    buckets.get(address, a -> new Bucket(settings.burst(), now)).take(now);
  }

  /** How many addresses are tracked now (bounded by max-addresses). */
  public long tracked() {
    buckets.cleanUp();
    return buckets.estimatedSize();
  }

  /** One address's bucket: tokens refill continuously up to burst; a failure takes one. */
  private final class Bucket {
    private double tokens;
    private long last;

    Bucket(double tokens, long now) {
      this.tokens = tokens;
      this.last = now;
    }

    synchronized void take(long now) {
      refill(now);
      tokens = Math.max(0, tokens - 1);
    }

    synchronized long waitSeconds(long now) {
      refill(now);
      if (tokens >= 1) {
        return 0;
      }
      double nanosToOne = (1 - tokens) / tokensPerNano;
      return Math.max(1, (long) Math.ceil(nanosToOne / 1e9));
    }

    private void refill(long now) {
      if (now > last) {
        tokens = Math.min(settings.burst(), tokens + (now - last) * tokensPerNano);
        last = now;
      }
    }
  }
}
