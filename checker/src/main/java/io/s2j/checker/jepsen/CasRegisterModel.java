package io.s2j.checker.jepsen;

import io.s2j.checker.Model;
import io.s2j.checker.Operation;
import java.util.List;
import java.util.Objects;

/**
 * Knossos' compare-and-set register over Jepsen calls: {@code :read} (output: the value read),
 * {@code :write v}, {@code :cas [from to]}; the register starts {@code nil}. A {@code :read} whose
 * output is unknown constrains nothing; an indefinite {@code :write} or {@code :cas} takes effect
 * (a {@code :cas} only where {@code from} matches) or never.
 */
public final class CasRegisterModel implements Model<CasRegisterModel.Register> {
  /** The register's value ({@code null} is nil). */
  public record Register(Object value) {
    @Override
    public String toString() {
      return JepsenEdn.print(value);
    }
  }

  private static final Register NIL = new Register(null);

  @Override
  public Register init() {
    return NIL;
  }

  @Override
  public Register step(Register state, Operation op) {
    JepsenCall call = (JepsenCall) op.input();
    return switch (call.f()) {
      case "read" -> op.indefinite() || Objects.equals(op.output(), state.value()) ? state : null;
      case "write" -> new Register(call.value());
      case "cas" -> {
        if (!(call.value() instanceof List<?> fromTo) || fromTo.size() != 2) {
          throw new IllegalArgumentException("cas needs [from to], got " + JepsenEdn.print(call.value()));
        }
        if (Objects.equals(fromTo.get(0), state.value())) {
          yield new Register(fromTo.get(1));
        }
        yield op.indefinite() ? state : null; // a definite :ok cas must have matched
      }
      default -> throw new IllegalArgumentException("cas-register has no :" + call.f());
    };
  }

  @Override
  public String describe(Operation op) {
    return describeJepsen(op);
  }

  /** e.g. {@code "op 12 (process 3) :cas [1 2] -> ok"}, shared by the Jepsen models. */
  static String describeJepsen(Operation op) {
    JepsenCall call = (JepsenCall) op.input();
    StringBuilder sb = new StringBuilder("op ").append(op.id()).append(" (process ").append(op.process())
        .append(") :").append(call.f());
    if (call.key() != null) {
      sb.append(' ').append(JepsenEdn.print(call.key()));
    }
    if (op.indefinite()) {
      sb.append(' ').append(JepsenEdn.print(call.value())).append(" -> info");
    } else if (Objects.equals(call.value(), op.output())) {
      sb.append(' ').append(JepsenEdn.print(call.value())).append(" -> ok");
    } else {
      sb.append(' ').append(JepsenEdn.print(call.value())).append(" -> ").append(JepsenEdn.print(op.output()));
    }
    return sb.toString();
  }
}
