// The processing stage against a real store: records, Provenance and outbox committed with the
// "processed" mark; a failing rule makes its message (and that patient's later ones) wait while
// other patients go on; a fixed rule set processes the waiting ones in order; a replay queues
// nothing twice.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "adapter/mapping/mapping.hpp"
#include "adapter/processing/processing.hpp"
#include "tests/support/admission.hpp"
#include "tests/support/norwegian.hpp"
#include "tests/unit/adapter/adapter_test_support.hpp"

namespace helsebro {
namespace {

namespace json = fhir::json;
using test::record;
using test::run_job;

const std::string good_rules = helsebro::testing::admission_rules("'admitted'");

// The same rule, broken for patients without a name (a division by an empty collection stands in
// for any rule error).
const char* failing_rules = R"yaml(rules:
  - rule: admission-plan
    when:
      event: urn:oid:2.16.578.1.12.4.1.1.8279|INNLEGGELSESRAPPORT
    patient: Bundle.entry.resource.ofType(Patient).first()
    let:
      broken: "iif(%patient.name.exists(), 1, (1 | 2).single())"
)yaml";

// Each admission adds a note naming the patient as the message names them: a new version each time.
std::string versioning_rules() { return helsebro::testing::admission_rules("'admitted as ' + %patient.name.family.first()"); }

std::string admission(const std::string& fnr, bool named = true, const std::string& family = "Nordmann") {
    return helsebro::testing::admission_message(fnr, "", named ? family : "");
}

// A REST transaction as intake stores it: Patient p1 with this fødselsnummer, and Condition c1
// about p1, which only processing links to the patient.
void record_rest_condition(store::Tx& tx, const std::string& fnr) {
    auto id = record(tx, "{}", "transaction");
    tx.put_version({"Patient", "p1", 1, tx.now(), false,
                    R"({"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:oid:2.16.578.1.12.4.1.4.1","value":")" + fnr + R"("}]})"},
                   id, {{helsebro::testing::fnr_system, fnr}});
    tx.put_version({"Condition", "c1", 1, tx.now(), false,
                    R"({"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"}})"}, id, {});
}

class Processing : public ::testing::Test {
protected:
    void SetUp() override {
        good_ = load(good_rules.c_str());
        failing_ = load(failing_rules);
        current_ = good_;
        processor_ = std::make_unique<processing::Processor>(*store_.store, [this] { return std::atomic_load(&current_); });
        processor_->start();
    }

    std::shared_ptr<const mapping::RuleSet> load(const char* text) {
        test::TempDir dir;
        std::ofstream(dir.path() / "rules.yaml") << text;
        mapping::LoadOptions options;
        options.recipients.emplace().push_back(mapping::Recipient{"hospital", "https://hospital.example/fhir", {"8094"}, {}, {}});
        auto loaded = mapping::load(dir.str(), options);
        EXPECT_TRUE(loaded.rules) << (loaded.errors.empty() ? "" : loaded.errors.front().to_string());
        return loaded.rules;
    }

    std::int64_t receive(const std::string& body) {
        std::int64_t id = 0;
        EXPECT_TRUE(run_job(*store_.store, [&](store::Tx& tx) {
            id = record(tx, body, "message");
            return true;
        }));
        processor_->notify();
        return id;
    }

    std::vector<store::ResourceVersion> records(const std::string& fnr) {
        return store_.store->patient_records(helsebro::testing::fnr_system, fnr);
    }
    void refuse_records_of(const std::string& family);
    void exec_sql(const std::string& sql);
    // Stores `before` admissions of other patients, then the patient's admissions with these family
    // names, then 63 more of other patients, in that order, and processes them (a round is 64).
    std::vector<std::int64_t> across_rounds(int before, const std::string& fnr, const std::vector<std::string>& families) {
        helsebro::testing::FnrSequence others(5000);
        std::vector<std::int64_t> ids;
        EXPECT_TRUE(run_job(*store_.store, [&](store::Tx& tx) {
            for (int i = 0; i < before + 63; ++i) {
                if (i == before)
                    for (const auto& f : families) ids.push_back(record(tx, admission(fnr, true, f), "message"));
                fillers_.push_back(others.next());
                record(tx, admission(fillers_.back()), "message");
            }
            return true;
        }));
        processor_->notify();
        processor_->wait_idle();
        return ids;
    }
    // Every other patient's message went on: one plan each, and `processed` in all.
    void expect_fillers_processed(std::uint64_t processed) {
        for (const auto& f : fillers_) EXPECT_EQ(records(f).size(), 1u) << "another patient's message is held";
        EXPECT_EQ(processor_->stats().processed, processed);
    }
    std::vector<std::string> fillers_;
    void expect_refused_then_waiting(const std::string& fnr, const std::vector<std::int64_t>& ids);

    test::ScratchStore store_;
    std::shared_ptr<const mapping::RuleSet> good_, failing_, current_;
    std::unique_ptr<processing::Processor> processor_;
};

TEST_F(Processing, RecordsProvenanceAndOutboxCommitTogether) {
    const auto fnr = helsebro::testing::synthetic_fnr(1, 2, 55);
    const auto id = receive(admission(fnr));
    processor_->wait_idle();
    auto held = records(fnr);
    ASSERT_EQ(held.size(), 1u);
    EXPECT_EQ(held[0].type, "CarePlan");
    EXPECT_EQ(held[0].version, 1);
    EXPECT_NE(held[0].json.find("admitted"), std::string::npos);
    EXPECT_EQ(store_.store->outbox_size(), 1u);
    EXPECT_TRUE(store_.store->unprocessed(0, 10).empty());
    // The Provenance names the version it explains and the message it came from.
    auto written = store_.store->written_by(id);
    ASSERT_EQ(written.size(), 2u);
    EXPECT_EQ(written[1].type, "Provenance");
    EXPECT_NE(written[1].json.find("CarePlan/" + held[0].id + "/_history/1"), std::string::npos);
    EXPECT_EQ(processor_->stats().processed, 1u);
}

// The Provenance is made before the writer knows the version: it must still name the right one,
// whether the record was read from the store or changed earlier in the same round.
TEST_F(Processing, EachProvenanceNamesTheVersionItExplains) {
    std::atomic_store(&current_, load(versioning_rules().c_str()));
    const auto fnr = helsebro::testing::synthetic_fnr(3, 4, 66);
    std::vector<std::int64_t> ids;
    ASSERT_TRUE(run_job(*store_.store, [&](store::Tx& tx) {  // two in one round: the second sees the first's change
        ids.push_back(record(tx, admission(fnr, true, "A"), "message"));
        ids.push_back(record(tx, admission(fnr, true, "B"), "message"));
        return true;
    }));
    processor_->notify();
    processor_->wait_idle();
    ids.push_back(receive(admission(fnr, true, "C")));  // a later round: read from the store
    processor_->wait_idle();
    auto held = records(fnr);
    ASSERT_EQ(held.size(), 1u);
    EXPECT_EQ(held[0].version, 3);
    for (std::size_t i = 0; i < ids.size(); ++i) {
        auto written = store_.store->written_by(ids[i]);
        ASSERT_EQ(written.size(), 2u);
        EXPECT_EQ(written[0].version, static_cast<std::int64_t>(i + 1));
        EXPECT_NE(written[1].json.find("CarePlan/" + held[0].id + "/_history/" + std::to_string(i + 1)), std::string::npos)
            << written[1].json;
    }
}

// One Provenance per rule and activity: a rule that creates a plan and a goal and updates the plan
// on the next message stores one Provenance naming both new records, then one naming the update.
TEST_F(Processing, ARulesChangesShareOneProvenancePerActivity) {
    std::string rules = good_rules;
    const std::string plan = "      - resource: CarePlan\n";
    rules.insert(rules.find(plan), "      - resource: Goal\n        match: \"true\"\n        create:\n"
                                    "          lifecycleStatus: \"'active'\"\n          description:\n"
                                    "            text: \"'home by Christmas'\"\n          subject: \"%patient_reference\"\n");
    std::atomic_store(&current_, load(rules.c_str()));
    const auto fnr = helsebro::testing::synthetic_fnr(4, 5, 77);
    const auto first = receive(admission(fnr, true, "A"));
    processor_->wait_idle();
    auto written = store_.store->written_by(first);
    ASSERT_EQ(written.size(), 3u);
    EXPECT_EQ(written[0].type, "Goal");
    EXPECT_EQ(written[1].type, "CarePlan");
    EXPECT_EQ(written[2].type, "Provenance");
    EXPECT_NE(written[2].json.find("\"Goal/" + written[0].id + "/_history/1\""), std::string::npos) << written[2].json;
    EXPECT_NE(written[2].json.find("\"CarePlan/" + written[1].id + "/_history/1\""), std::string::npos);
    EXPECT_NE(written[2].json.find("CREATE"), std::string::npos);

    std::atomic_store(&current_, load(versioning_rules().c_str()));  // the plan gets a second note
    const auto second = receive(admission(fnr, true, "B"));
    processor_->wait_idle();
    written = store_.store->written_by(second);
    ASSERT_EQ(written.size(), 2u);
    EXPECT_EQ(written[0].version, 2);
    EXPECT_NE(written[1].json.find("\"CarePlan/" + written[0].id + "/_history/2\""), std::string::npos) << written[1].json;
    EXPECT_NE(written[1].json.find("UPDATE"), std::string::npos);
}

TEST_F(Processing, TheSameMessageAgainChangesNothingAndQueuesNothingTwice) {
    const auto fnr = helsebro::testing::synthetic_fnr(2, 3, 44);
    receive(admission(fnr));
    processor_->wait_idle();
    receive(admission(fnr));  // a second admission with the same content: same note, no new version
    processor_->wait_idle();
    auto held = records(fnr);
    ASSERT_EQ(held.size(), 1u);
    EXPECT_EQ(held[0].version, 1);
    EXPECT_EQ(store_.store->outbox_size(), 2u);  // two messages in, two admissions out (distinct ids)
}

TEST_F(Processing, AFailedMessageHoldsItsPatientOnlyUntilTheRulesAreFixed) {
    const auto stuck = helsebro::testing::synthetic_fnr(3, 4, 33);
    const auto other = helsebro::testing::synthetic_fnr(4, 5, 22);
    std::atomic_store(&current_, failing_);
    receive(admission(stuck, /*named=*/false));  // fails
    processor_->wait_idle();
    std::atomic_store(&current_, good_);
    receive(admission(stuck));                   // same patient: waits behind it
    receive(admission(other));                   // another patient: goes on
    processor_->wait_idle();
    EXPECT_TRUE(records(stuck).empty());
    EXPECT_EQ(records(other).size(), 1u);
    auto stats = processor_->stats();
    EXPECT_EQ(stats.failed, 1u);
    EXPECT_EQ(stats.waiting, 1u);
    EXPECT_EQ(store_.store->blocked_patients(), (std::vector<std::string>{std::string(helsebro::testing::fnr_system) + "|" + stuck,
                                                                          std::string(helsebro::testing::fnr_system) + "|" + stuck}));

    processor_->retry_failed();  // the good rules are in force now
    processor_->wait_idle();
    auto held = records(stuck);
    ASSERT_EQ(held.size(), 1u);
    EXPECT_TRUE(store_.store->blocked_patients().empty());
    EXPECT_EQ(store_.store->outbox_size(), 3u);
}

// The versioning rules, and a store that refuses (a trigger stands in for a full disk) any record
// holding the note of an admission with this family name.
void Processing::refuse_records_of(const std::string& family) {
    std::atomic_store(&current_, load(versioning_rules().c_str()));
    exec_sql("CREATE TRIGGER refuse BEFORE INSERT ON resource_version WHEN CAST(NEW.body AS TEXT) LIKE '%admitted as " + family +
             "%' BEGIN SELECT RAISE(ABORT, 'the disk is full'); END;");
}

// On the store's file, from a connection of its own (as an administrator's sqlite3 would).
void Processing::exec_sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(store_.store->database_path().c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
}

// ids[0] was refused and waits as failed; ids[1], the same patient's later message, waits behind
// it; nothing of either reached the patient's records.
void Processing::expect_refused_then_waiting(const std::string& fnr, const std::vector<std::int64_t>& ids) {
    EXPECT_TRUE(records(fnr).empty()) << "the later message's plan would hold the refused one's note";
    auto unfinished = store_.store->unfinished(10);
    ASSERT_EQ(unfinished.size(), 2u);
    EXPECT_EQ(unfinished[0].message_id, ids[0]);
    EXPECT_EQ(unfinished[0].state, "failed");
    EXPECT_NE(unfinished[0].error.find("could not be stored"), std::string::npos) << unfinished[0].error;
    EXPECT_EQ(unfinished[1].message_id, ids[1]);
    EXPECT_EQ(unfinished[1].state, "waiting");
}

// A message whose results the store refuses fails, and the same patient's next message of the same
// round, mapped on top of the refused changes, must not be stored ahead of it: it waits behind it.
TEST_F(Processing, AMessageTheStoreRefusesHoldsItsPatientsLaterMessages) {
    refuse_records_of("Refused");
    const auto fnr = helsebro::testing::synthetic_fnr(6, 7, 88);
    std::vector<std::int64_t> ids;
    ASSERT_TRUE(run_job(*store_.store, [&](store::Tx& tx) {  // one round
        ids.push_back(record(tx, admission(fnr, true, "Refused"), "message"));
        ids.push_back(record(tx, admission(fnr, true, "Later"), "message"));
        return true;
    }));
    processor_->notify();
    processor_->wait_idle();
    expect_refused_then_waiting(fnr, ids);
}

// The same across rounds: a round (64 messages) is mapped while the writer still commits the one
// before, on top of its changes. The patient's later message, first of the next round, must wait
// behind the refused one, last of the round before, and the other patients go on.
TEST_F(Processing, AMessageTheStoreRefusesHoldsItsPatientsLaterMessagesOfTheNextRound) {
    refuse_records_of("Refused");
    const auto fnr = helsebro::testing::synthetic_fnr(6, 7, 88);
    // The refused one 64th, last of round one; the later one first of round two.
    const auto ids = across_rounds(63, fnr, {"Refused", "Later"});
    expect_refused_then_waiting(fnr, ids);
    expect_fillers_processed(126);
}

// A round that fails (its last message skipped behind a refused one) while the next round is on
// its way: both rounds are settled before the cursor goes back, and it goes back to the earlier
// one, so that the skipped message is read again (not left unprocessed) and the next round's
// message of the same patient waits too.
TEST_F(Processing, ARoundThatFailsWhileTheNextIsOnItsWayIsReadAgain) {
    refuse_records_of("Refused");
    const auto fnr = helsebro::testing::synthetic_fnr(6, 7, 88);
    // "Later" is the 64th, skipped behind the refused one; "Later2" first of round two.
    const auto ids = across_rounds(62, fnr, {"Refused", "Later", "Later2"});
    EXPECT_TRUE(records(fnr).empty());
    auto unfinished = store_.store->unfinished(10);
    ASSERT_EQ(unfinished.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(unfinished[i].message_id, ids[i]);
    EXPECT_EQ(unfinished[0].state, "failed");
    EXPECT_EQ(unfinished[1].state, "waiting");
    EXPECT_EQ(unfinished[2].state, "waiting");
    expect_fillers_processed(125);
}

// Received data is linked to its patient by its message's job. A message of the next round, mapped
// while that job may still be on its way, must find it among the patient's records all the same.
TEST_F(Processing, ReceivedDataOfTheRoundOnItsWayIsAmongThePatientsRecords) {
    std::atomic_store(&current_, load(helsebro::testing::admission_rules("'conditions: ' + %records.ofType(Condition).count().toString()").c_str()));
    const auto fnr = helsebro::testing::synthetic_fnr(5, 6, 11);
    helsebro::testing::FnrSequence others(7000);
    ASSERT_TRUE(run_job(*store_.store, [&](store::Tx& tx) {
        for (int i = 0; i < 63; ++i) record(tx, admission(others.next()), "message");
        record_rest_condition(tx, fnr);  // the 64th: last of round one
        record(tx, admission(fnr), "message");  // first of round two
        return true;
    }));
    processor_->notify();
    processor_->wait_idle();
    std::string plan;
    for (const auto& r : records(fnr))
        if (r.type == "CarePlan") plan = r.json;
    EXPECT_NE(plan.find("conditions: 1"), std::string::npos) << plan;
}

// A read of the store that fails while a message is mapped (here the patients' records table is
// away for a while) pauses processing and tries again; the processing thread must not end the
// daemon, and the message is processed once the store reads again.
TEST_F(Processing, AFailedReadOfTheStorePausesProcessingInsteadOfEndingIt) {
    std::atomic_store(&current_, load(versioning_rules().c_str()));  // its upsert reads the patient's records
    exec_sql("ALTER TABLE patient_resource RENAME TO patient_resource_away");
    const auto fnr = helsebro::testing::synthetic_fnr(8, 9, 44);
    receive(admission(fnr));
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // at least one failed attempt and its pause
    EXPECT_EQ(processor_->stats().processed, 0u);
    exec_sql("ALTER TABLE patient_resource_away RENAME TO patient_resource");
    processor_->wait_idle();
    EXPECT_EQ(records(fnr).size(), 1u);
    EXPECT_EQ(processor_->stats().processed, 1u);
    EXPECT_EQ(processor_->stats().failed, 0u);
}

TEST_F(Processing, RestWritesAreLinkedToTheirPatient) {
    const auto fnr = helsebro::testing::synthetic_fnr(5, 6, 11);
    ASSERT_TRUE(run_job(*store_.store, [&](store::Tx& tx) {
        record_rest_condition(tx, fnr);
        return true;
    }));
    processor_->notify();
    processor_->wait_idle();
    auto held = records(fnr);
    ASSERT_EQ(held.size(), 2u);
    EXPECT_EQ(held[0].type + held[1].type, "ConditionPatient");
}

}  // namespace
}  // namespace helsebro
