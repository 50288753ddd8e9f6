package io.s2j.checker.s2;

import io.s2j.checker.Model;
import io.s2j.checker.Operation;

/**
 * One S2 stream as a sequential specification, mirroring s2-verification's Porcupine model: the
 * state is the tail, the cumulative hash of every record ({@link StreamHash}) and the fencing
 * token.
 *
 * <p>An append's conditions are checked against the state before the batch (S2-API §7.2, §7.4):
 * {@code fencing_token}, when present, must equal the stream's token (as strings);
 * {@code match_seq_num}, when present, must equal the tail. If they hold, the tail advances by the
 * number of records, the hash folds the record hashes, and a {@code set_fencing_token} (a fence
 * command) becomes the token for later batches. An acknowledged append must have held its
 * conditions and report the new tail (its ack's end); an indefinite one moves to that state when
 * its conditions hold here and stays put otherwise (the checker also considers it never
 * happened). Definite failures never reach the model. A read from the head must report exactly the
 * state's tail and hash; a check-tail, the tail.
 *
 * <p>One deliberate difference from the Go model: the token starts as {@code ""}, as S2's does, so
 * a batch carrying {@code fencing_token: ""} passes on a never-fenced stream (the Go model starts
 * from "no token" and rejects it). See {@code checker/S2-VERIFICATION-FORMAT.md} §7.
 *
 * <p>One stream per history, so there is no partitioning.
 */
public final class S2StreamModel implements Model<S2StreamModel.State> {

  /**
   * The stream as the model sees it.
   *
   * @param tail the next sequence number (unsigned)
   * @param streamHash the cumulative hash of records {@code 0 .. tail-1}
   * @param fencingToken the current fencing token; {@code ""} when never set
   */
  public record State(long tail, long streamHash, String fencingToken) {
    public State {
      if (fencingToken == null) {
        throw new IllegalArgumentException("the fencing token is a string (\"\" when never set)");
      }
    }
  }

  private static final State INIT = new State(0, StreamHash.EMPTY, "");

  @Override
  public State init() {
    return INIT;
  }

  @Override
  public State step(State state, Operation op) {
    return switch ((S2Call) op.input()) {
      case AppendInput append -> stepAppend(state, append, op);
      case ReadInput read -> {
        if (op.indefinite()) {
          yield state;
        }
        ReadOutput out = (ReadOutput) op.output();
        yield out.tail() == state.tail() && out.streamHash() == state.streamHash() ? state : null;
      }
      case CheckTailInput checkTail -> {
        if (op.indefinite()) {
          yield state;
        }
        CheckTailOutput out = (CheckTailOutput) op.output();
        yield out.tail() == state.tail() ? state : null;
      }
    };
  }

  private static State stepAppend(State state, AppendInput append, Operation op) {
    boolean tokenHolds = append.fencingToken() == null || append.fencingToken().equals(state.fencingToken());
    boolean seqNumHolds = append.matchSeqNum() == null || append.matchSeqNum() == state.tail();
    boolean conditionsHold = tokenHolds && seqNumHolds;
    if (op.indefinite()) {
      // Taking effect here is only possible when the conditions hold; otherwise the batch was
      // rejected, which is the same as it never having happened.
      return conditionsHold ? appended(state, append) : state;
    }
    AppendOutput out = (AppendOutput) op.output();
    if (!conditionsHold || out.tail() != state.tail() + append.numRecords()) {
      return null; // decided before hashing: most states the search tries end here
    }
    return appended(state, append);
  }

  private static State appended(State state, AppendInput append) {
    return new State(
        state.tail() + append.numRecords(),
        StreamHash.fold(state.streamHash(), append.recordHashes()),
        append.setFencingToken() != null ? append.setFencingToken() : state.fencingToken());
  }

  @Override
  public String describe(Operation op) {
    String who = "op " + op.id() + " by client " + Long.toUnsignedString(op.process()) + ": ";
    String result;
    if (op.indefinite()) {
      result = "?";
    } else {
      result = switch ((S2Finish) op.output()) {
        case AppendOutput o -> "tail " + Long.toUnsignedString(o.tail());
        case ReadOutput o -> "tail " + Long.toUnsignedString(o.tail()) + ", hash " + Long.toHexString(o.streamHash());
        case CheckTailOutput o -> "tail " + Long.toUnsignedString(o.tail());
        case S2Failure f -> f.json();
      };
    }
    String call = switch ((S2Call) op.input()) {
      case ReadInput r -> "read";
      case CheckTailInput c -> "check-tail";
      case AppendInput a -> {
        StringBuilder s = new StringBuilder("append ").append(a.numRecords());
        if (a.matchSeqNum() != null) {
          s.append(" match_seq_num=").append(Long.toUnsignedString(a.matchSeqNum()));
        }
        if (a.fencingToken() != null) {
          s.append(" fencing_token=\"").append(a.fencingToken()).append('"');
        }
        if (a.setFencingToken() != null) {
          s.append(" fence=\"").append(a.setFencingToken()).append('"');
        }
        yield s.toString();
      }
    };
    return who + call + " -> " + result;
  }
}
