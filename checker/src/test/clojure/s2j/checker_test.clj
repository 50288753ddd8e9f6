(ns s2j.checker-test
  (:require [clojure.test :refer [deftest is testing]]
            [clojure.java.io :as io]
            [s2j.checker :as c]))

(defn- inv [p f v & {:as more}] (merge {:process p, :type :invoke, :f f, :value v} more))
(defn- ok [p f v & {:as more}] (merge {:process p, :type :ok, :f f, :value v} more))
(defn- info [p f v] {:process p, :type :info, :f f, :value v})
(defn- fail [p f v] {:process p, :type :fail, :f f, :value v})

(deftest linearizable-register
  (let [r (c/check :cas-register [(inv 0 :write 1) (ok 0 :write 1)
                                  (inv 1 :read nil) (ok 1 :read 1)
                                  (inv 0 :cas [1 2]) (ok 0 :cas [1 2])
                                  (inv 1 :read nil) (ok 1 :read 2)])]
    (is (= true (:valid? r)))
    (is (= 4 (:op-count r)))))

(deftest stale-read-is-not-linearizable
  (let [r (c/check :cas-register [(inv 0 :write 1) (ok 0 :write 1)
                                  (inv 1 :read nil) (ok 1 :read nil)])]
    (is (= false (:valid? r)))
    (testing "the failing op is named, Knossos-style"
      (is (= {:index 2, :process 1, :type :ok, :f :read, :value nil} (:op r)))
      (is (= [(:op r)] (:unplaced r)))
      (is (string? (:explanation r))))))

(deftest indefinite-ops
  (testing "an :info write takes effect late"
    (is (= true (:valid? (c/check :cas-register [(inv 0 :write 1) (info 0 :write 1)
                                                 (inv 1 :read nil) (ok 1 :read nil)
                                                 (inv 1 :read nil) (ok 1 :read 1)])))))
  (testing "an :info write never takes effect"
    (is (= true (:valid? (c/check :cas-register [(inv 0 :write 1) (info 0 :write 1)
                                                 (inv 1 :read nil) (ok 1 :read nil)])))))
  (testing "an :info write cannot be undone"
    (is (= false (:valid? (c/check :cas-register [(inv 0 :write 1) (info 0 :write 1)
                                                  (inv 1 :read nil) (ok 1 :read 1)
                                                  (inv 1 :read nil) (ok 1 :read nil)])))))
  (testing "a :fail write did not happen"
    (is (= false (:valid? (c/check :cas-register [(inv 0 :write 1) (fail 0 :write 1)
                                                  (inv 1 :read nil) (ok 1 :read 1)]))))))

(deftest nemesis-and-junk-are-ignored
  (is (= true (:valid? (c/check :cas-register [{:process :nemesis, :type :info, :f :start}
                                               (inv 0 :write 3) (ok 0 :write 3)
                                               {:not "an op"}
                                               (inv 1 :read nil) (ok 1 :read 3)])))))

(deftest kv-model
  (let [h [(inv 0 :append "x" :key "a") (ok 0 :append "x" :key "a")
           (inv 1 :put "y" :key "b") (ok 1 :put "y" :key "b")
           (inv 0 :get nil :key "a") (ok 0 :get "x" :key "a")
           (inv 1 :get nil :key "b") (ok 1 :get "" :key "b")]
        r (c/check :kv h)]
    (is (= false (:valid? r)))
    (is (= "b" (:key (:op r))))
    (is (= true (:valid? (c/check :kv (take 6 h)))))))

(deftest a-model-object-works-too
  (is (= true (:valid? (c/check (c/model :kv) [(inv 0 :put "v" :key "k") (ok 0 :put "v" :key "k")]))))
  (is (thrown? IllegalArgumentException (c/check :no-such-model []))))

(deftest budget-exhaustion-is-unknown
  (let [h (mapcat (fn [v] [(inv 0 :write v) (ok 0 :write v)]) (range 5))]
    (is (= :unknown (:valid? (c/check :cas-register h {:states-max 2}))))
    (is (= true (:valid? (c/check :cas-register h {:states-max 5}))))))

(deftest histories-from-edn-files
  (let [f (java.io.File/createTempFile "history" ".edn")]
    (try
      (spit f (str "[" (pr-str (inv 0 :write 1)) "\n" (pr-str (ok 0 :write 1)) "\n"
                   (pr-str (inv 1 :read nil)) "\n" (pr-str (ok 1 :read 2)) "]\n"))
      (let [h (c/read-history f)]
        (is (= 4 (count h)))
        (is (= false (:valid? (c/check :cas-register h)))))
      (finally (io/delete-file f true)))))
