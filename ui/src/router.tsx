import { createBrowserRouter, Navigate } from "react-router";
import { Layout } from "./components/layout.tsx";
import { NotFoundPage } from "./pages/not-found-page.tsx";
import { SignInPage } from "./pages/sign-in-page.tsx";
import { pages } from "./pages.ts";

export const router = createBrowserRouter([
  { path: "/sign-in", Component: SignInPage },
  {
    path: "/",
    Component: Layout,
    children: [
      { index: true, element: <Navigate to="/runs" replace /> },
      ...pages.map((page) => ({
        path: page.path,
        lazy: async () => ({ Component: await page.load() }),
      })),
      { path: "*", Component: NotFoundPage },
    ],
  },
]);
