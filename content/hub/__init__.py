"""The reference content server (`juwu hub serve`): TUF repository, inbox, replies."""
