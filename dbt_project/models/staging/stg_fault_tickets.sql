-- One row per fault ticket, latest load; opened_date is the UTC calendar date the ticket was opened.
{{ trust_index.staged_fault_tickets() }}
