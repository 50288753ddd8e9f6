(ns s2j.checker
  "Linearizability checks of Jepsen histories, Knossos-style, backed by s2j's checker
  (io.s2j.checker.Linearizability: Wing-Gong search with Lowe's memoisation, partitions per
  Model/partition).

    (require '[s2j.checker :as c])
    (c/check :cas-register history)   ; => {:valid? true, ...}

  A history is a seq of Jepsen op maps ({:process 0, :type :invoke, :f :read, :value nil}, ...);
  :fail ops did not happen, :info ops and invocations that never complete may have happened at
  any point after their invocation, and non-client ops (:process :nemesis) are ignored."
  (:require [clojure.edn :as edn]
            [clojure.java.io :as io])
  (:import (io.s2j.checker CheckResult Linearizability Model Operation Verdict)
           (io.s2j.checker.jepsen CasRegisterModel JepsenCall JepsenEdn JepsenHistory KvModel)))

(def models
  "The models `check` knows by keyword."
  {:cas-register "compare-and-set register: :read, :write v, :cas [from to]; starts nil"
   :kv           "key-value store: :get, :put, :append of strings on :key; every key starts \"\""})

(defn model
  "The io.s2j.checker.Model for `m`: a keyword of `models`, or a Model as it is."
  ^Model [m]
  (cond
    (instance? Model m)  m
    (= :cas-register m)  (CasRegisterModel.)
    (= :kv m)            (KvModel.)
    :else (throw (IllegalArgumentException.
                   (str "unknown model " (pr-str m) "; known: " (pr-str (keys models))
                        " or an io.s2j.checker.Model")))))

(defn- edn-value
  "A checker value (plain Java collections) as Clojure data."
  [v]
  (cond
    (instance? java.util.List v) (mapv edn-value v)
    (instance? java.util.Map v)  (into {} (map (fn [[k x]] [(edn-value k) (edn-value x)])) v)
    (instance? java.util.Set v)  (into #{} (map edn-value) v)
    :else v))

(defn op->map
  "An Operation read from a Jepsen history as a Jepsen-style completion map: :index is the
  invocation's position among the client ops, :type :ok or :info."
  [^Operation op]
  (let [input (.input op)]
    (if (instance? JepsenCall input)
      (let [^JepsenCall call input]
        (cond-> {:index   (.id op)
                 :process (.process op)
                 :type    (if (.indefinite op) :info :ok)
                 :f       (keyword (.f call))
                 :value   (edn-value (if (.indefinite op) (.value call) (.output op)))}
          (some? (.key call)) (assoc :key (edn-value (.key call)))))
      {:index (.id op), :process (.process op), :input (.input op), :output (.output op)})))

(defn operations
  "The checker's Operations of a Jepsen history (a seq of op maps)."
  [history]
  (JepsenHistory/operations (JepsenEdn/events (vec history))))

(defn check
  "Checks a Jepsen history against a model (see `model`). Returns
    {:valid? true,     :op-count n, :explanation s}
    {:valid? false,    :op <the op that could not be placed>, :unplaced [ops pending there],
                       :op-count n, :explanation s}
    {:valid? :unknown, :op-count n, :explanation s}       ; the budget ran out
  Options: :states-max, the budget of explored configurations (default
  Linearizability/STATES_MAX_DEFAULT)."
  ([m history] (check m history {}))
  ([m history {:keys [states-max] :or {states-max Linearizability/STATES_MAX_DEFAULT}}]
   (let [ops (operations history)
         ^CheckResult r (Linearizability/check (model m) ops (long states-max))
         base {:op-count (count ops), :explanation (.explanation r)}]
     (condp = (.verdict r)
       Verdict/LINEARIZABLE     (assoc base :valid? true)
       Verdict/NOT_LINEARIZABLE (let [unplaced (mapv op->map (.unplaced r))]
                                  (assoc base :valid? false, :op (first unplaced), :unplaced unplaced))
       Verdict/UNKNOWN          (assoc base :valid? :unknown)))))

(defn read-history
  "The op maps of an EDN history file (one map per line, or one vector of maps), read with
  clojure.edn."
  [file]
  (with-open [r (java.io.PushbackReader. (io/reader file))]
    (let [eof (Object.)
          forms (loop [acc []]
                  (let [form (edn/read {:eof eof, :default (fn [_ v] v)} r)]
                    (if (identical? eof form) acc (recur (conj acc form)))))]
      (vec (mapcat #(if (map? %) [%] (filter map? %)) forms)))))
