package io.sluice.node.provider.gemini;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.auth.oauth2.AccessToken;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.Date;
import java.util.Deque;
import org.junit.jupiter.api.Test;

/** The Vertex token cache against a fake clock and fake Google credentials: no network. */
class AccessTokensTest {
  private static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");
  private static final Duration MARGIN = Duration.ofMinutes(5);

  /** A clock the test moves. */
  static final class FakeClock implements InstantSource {
    Instant now = T0;

    @Override
    public Instant instant() {
      return now;
    }
  }

  /** Credentials that hand out the queued answers (a token, or a failure) and count the fetches. */
  static final class FakeCredentials implements AccessTokens.Fetch {
    final Deque<Object> answers = new ArrayDeque<>();
    int fetches;

    FakeCredentials token(String value, Instant expiry) {
      answers.add(new AccessToken(value, Date.from(expiry)));
      return this;
    }

    FakeCredentials failure() {
      answers.add(new IOException("oauth2.googleapis.com unreachable"));
      return this;
    }

    @Override
    public AccessToken fetch() throws IOException {
      fetches++;
      Object next = answers.poll();
      if (next instanceof IOException e) {
        throw e;
      }
      if (next == null) {
        throw new AssertionError("an unexpected fetch");
      }
      return (AccessToken) next;
    }
  }

  private final FakeClock clock = new FakeClock();

  @Test
  void refreshIfDue_noToken_fetchesOne() throws Exception {
    FakeCredentials creds = new FakeCredentials().token("a", T0.plus(Duration.ofHours(1)));
    AccessTokens tokens = new AccessTokens("d", creds, clock, MARGIN);
    tokens.refreshIfDue();
    assertEquals("a", tokens.current());
    assertEquals(1, creds.fetches);
  }

  @Test
  void refreshIfDue_tokenOutsideMargin_keepsIt() throws Exception {
    FakeCredentials creds = new FakeCredentials().token("a", T0.plus(Duration.ofHours(1)));
    AccessTokens tokens = new AccessTokens("d", creds, clock, MARGIN);
    tokens.refreshIfDue();
    clock.now = T0.plus(Duration.ofMinutes(54)); // 6 minutes left
    tokens.refreshIfDue();
    assertEquals("a", tokens.current());
    assertEquals(1, creds.fetches);
  }

  @Test
  void refreshIfDue_tokenWithinMargin_replacesItBeforeExpiry() throws Exception {
    FakeCredentials creds = new FakeCredentials().token("a", T0.plus(Duration.ofHours(1)))
        .token("b", T0.plus(Duration.ofHours(2)));
    AccessTokens tokens = new AccessTokens("d", creds, clock, MARGIN);
    tokens.refreshIfDue();
    clock.now = T0.plus(Duration.ofMinutes(56)); // 4 minutes left: due
    assertEquals("a", tokens.current(), "still valid, so the request path does not fetch");
    tokens.refreshIfDue();
    assertEquals("b", tokens.current());
    assertEquals(2, creds.fetches);
  }

  @Test
  void refreshIfDue_fetchFails_keepsValidTokenAndRetriesNextTick() throws Exception {
    FakeCredentials creds = new FakeCredentials().token("a", T0.plus(Duration.ofHours(1))).failure()
        .token("c", T0.plus(Duration.ofHours(2)));
    AccessTokens tokens = new AccessTokens("d", creds, clock, MARGIN);
    tokens.refreshIfDue();
    clock.now = T0.plus(Duration.ofMinutes(57));
    tokens.refreshIfDue(); // fails
    assertEquals("a", tokens.current());
    tokens.refreshIfDue();
    assertEquals("c", tokens.current());
    assertEquals(3, creds.fetches);
  }

  @Test
  void current_tokenExpired_fetchesOnTheRequestPath() throws Exception {
    FakeCredentials creds = new FakeCredentials().token("a", T0.plus(Duration.ofHours(1)))
        .token("b", T0.plus(Duration.ofHours(3)));
    AccessTokens tokens = new AccessTokens("d", creds, clock, MARGIN);
    tokens.refreshIfDue();
    clock.now = T0.plus(Duration.ofHours(1)); // expired: no refresh ran in time
    assertEquals("b", tokens.current());
    assertEquals("b", tokens.current());
    assertEquals(2, creds.fetches);
  }

  @Test
  void current_noTokenAndFetchFails_throws() {
    AccessTokens tokens = new AccessTokens("d", new FakeCredentials().failure(), clock, MARGIN);
    assertThrows(IOException.class, tokens::current);
  }
}
