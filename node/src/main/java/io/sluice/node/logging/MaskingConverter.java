package io.sluice.node.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.pattern.CompositeConverter;

/**
 * Logback's {@code %mask(...)}: the enclosed pattern's output (message and stack trace) with
 * every credential masked by {@link SecretMask}. Bound in logback.xml; the pattern starts with
 * {@code %nopex} so that logback does not append an unmasked stack trace of its own.
 */
public final class MaskingConverter extends CompositeConverter<ILoggingEvent> {
  @Override
  protected String transform(ILoggingEvent event, String in) {
    return SecretMask.mask(in);
  }
}
