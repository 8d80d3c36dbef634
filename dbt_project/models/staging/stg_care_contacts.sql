-- One row per care contact, latest load; contact_date is the UTC calendar date of the contact.
{{ trust_index.staged_care_contacts() }}
