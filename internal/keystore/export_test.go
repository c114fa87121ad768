package keystore

// DataKeyPage is dataKeyPage, for tests that cross a page.
const DataKeyPage = dataKeyPage
