import { createBrowserRouter, Navigate } from "react-router";
import { Layout } from "./components/layout.tsx";
import { Loading } from "./components/states.tsx";
import { NotFoundPage } from "./pages/not-found-page.tsx";
import { SignInPage } from "./pages/sign-in-page.tsx";
import { pages } from "./pages.ts";

export const router = createBrowserRouter([
  { path: "/sign-in", Component: SignInPage },
  {
    path: "/",
    Component: Layout,
    HydrateFallback: () => <Loading what="Cairn" />,
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
