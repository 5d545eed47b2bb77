// Written to match migrations/{sqlite,postgres}; `tests/migrations.rs` checks that both backends
// accept every column with these types.

diesel::table! {
    municipalities (code) {
        code -> Text,
        name -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        revision -> BigInt,
    }
}

diesel::table! {
    plans (id) {
        id -> Text,
        municipality_code -> Text,
        year -> Integer,
        title -> Text,
        summary -> Nullable<Text>,
        covers -> Text,
        status -> Text,
        latest_version -> Nullable<Integer>,
        adopted_version -> Nullable<Integer>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        revision -> BigInt,
    }
}

diesel::joinable!(plans -> municipalities (municipality_code));
diesel::allow_tables_to_appear_in_same_query!(municipalities, plans);
